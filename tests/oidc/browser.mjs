// Scripted "user with a browser" for the RFC 8628 verification step against
// server.mjs (oidc-provider with devInteractions). Node built-ins only.
//
//   node browser.mjs <issuer-url> <user_code> approve|deny
//
// approve: enter the user code, confirm, log in as "alice", grant consent;
//          succeeds when the final page is oidc-provider's "Sign-in Success".
// deny:    enter the user code, confirm, log in as "alice", then press
//          "[ Cancel ]" on the consent page; the device code then carries
//          error=access_denied, so the polling client gets access_denied.
//          Succeeds when the final page says "The Sign-in request was interrupted".
//
// Exit 0 on success; otherwise non-zero with the reason on stderr.
// Env: BROWSER_TIMEOUT_MS (per request, default 10000), BROWSER_ACCOUNT (default alice).

const REQUEST_TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 10000);
const ACCOUNT = process.env.BROWSER_ACCOUNT || 'alice';
const MAX_REDIRECTS = 10; // per navigation
const MAX_STEPS = 12; // pages/forms handled in total

class BrowserError extends Error {}

function fail(msg) {
  throw new BrowserError(msg);
}

// ---------------------------------------------------------------- cookie jar
// Minimal RFC 6265 jar: host-only (single origin), honours Path, Max-Age and
// Expires (deletion), ignores Domain/Secure/SameSite (loopback http only).
const jar = new Map(); // key `${name}\0${path}` -> { name, value, path, expires }

function defaultPath(url) {
  const p = url.pathname;
  if (!p.startsWith('/') || p.lastIndexOf('/') === 0) return '/';
  return p.slice(0, p.lastIndexOf('/'));
}

function storeCookies(response, url) {
  const headers = response.headers.getSetCookie ? response.headers.getSetCookie() : [];
  for (const header of headers) {
    const [pair, ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = defaultPath(url);
    let expires = Infinity;
    let maxAgeSeen = false;
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      const key = (i === -1 ? attr : attr.slice(0, i)).trim().toLowerCase();
      const val = i === -1 ? '' : attr.slice(i + 1).trim();
      if (key === 'path' && val.startsWith('/')) path = val;
      else if (key === 'max-age' && /^-?\d+$/.test(val)) {
        maxAgeSeen = true;
        expires = Date.now() + Number(val) * 1000;
      } else if (key === 'expires' && !maxAgeSeen) {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) expires = t;
      }
    }
    const key = `${name}\0${path}`;
    if (expires <= Date.now()) jar.delete(key);
    else jar.set(key, { name, value, path, expires });
  }
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function cookieHeader(url) {
  const now = Date.now();
  const matches = [];
  for (const [key, c] of jar) {
    if (c.expires <= now) { jar.delete(key); continue; }
    if (pathMatches(url.pathname, c.path)) matches.push(c);
  }
  matches.sort((a, b) => b.path.length - a.path.length); // longer paths first (RFC 6265 5.4)
  return matches.map((c) => `${c.name}=${c.value}`).join('; ');
}

// ------------------------------------------------------------------ requests
let origin;

async function request(method, url, form) {
  if (url.origin !== origin) fail(`refusing to leave ${origin}: ${url.href}`);
  const headers = { accept: 'text/html', 'user-agent': 'device-grant-tests/browser.mjs' };
  const cookie = cookieHeader(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  let response;
  try {
    response = await fetch(url, {
      method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    fail(`${method} ${url.href} failed: ${err.name === 'TimeoutError' ? `timed out after ${REQUEST_TIMEOUT_MS} ms` : err.message}`);
  }
  storeCookies(response, url);
  let text;
  try {
    text = await response.text();
  } catch (err) {
    fail(`${method} ${url.href}: reading body failed: ${err.message}`);
  }
  return { status: response.status, location: response.headers.get('location'), text, url };
}

// Send a request and follow redirects (POST becomes GET on 301/302/303 like browsers do).
async function navigate(method, url, form) {
  let res = await request(method, url, form);
  for (let hops = 0; [301, 302, 303, 307, 308].includes(res.status); hops += 1) {
    if (hops >= MAX_REDIRECTS) fail(`too many redirects (last: ${res.url.href})`);
    if (!res.location) fail(`redirect ${res.status} without Location from ${res.url.href}`);
    const next = new URL(res.location, res.url);
    const keep = res.status === 307 || res.status === 308;
    res = await request(keep ? method : 'GET', next, keep ? form : undefined);
  }
  if (res.status !== 200) {
    fail(`unexpected HTTP ${res.status} from ${res.url.href}: ${summary(res.text)}`);
  }
  return res;
}

// ---------------------------------------------------------------- html bits
function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i'));
  return m ? decodeEntities(m[1] ?? m[2]) : undefined;
}

function forms(html) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields = {};
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name) fields[name] = attr(input[0], 'value') ?? '';
    }
    out.push({
      id: attr(`<form ${m[1]}>`, 'id'),
      action: attr(`<form ${m[1]}>`, 'action'),
      method: (attr(`<form ${m[1]}>`, 'method') || 'GET').toUpperCase(),
      fields,
    });
  }
  return out;
}

function title(html) {
  const m = html.match(/<title>([\s\S]*?)<\/title>/i);
  return m ? decodeEntities(m[1].trim()) : '';
}

function summary(html) {
  const errorMsg = html.match(/<p class="red">([\s\S]*?)<\/p>/i);
  const text = decodeEntities(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ').trim();
  return `${errorMsg ? `[${decodeEntities(errorMsg[1])}] ` : ''}${text.slice(0, 400)}`;
}

function findForm(page, predicate, what) {
  const form = forms(page.text).find(predicate);
  if (!form) fail(`expected ${what} on ${page.url.href} (title "${title(page.text)}"): ${summary(page.text)}`);
  return form;
}

function submit(page, form, extra = {}) {
  return navigate(form.method, new URL(form.action || page.url.href, page.url), { ...form.fields, ...extra });
}

// ------------------------------------------------------------------- flow
async function run(issuer, userCode, mode) {
  const base = new URL(issuer.endsWith('/') ? issuer : `${issuer}/`);
  origin = base.origin;

  // 1. Verification page: form with hidden xsrf, session cookie set.
  let page = await navigate('GET', new URL('device', base));
  let form = findForm(page, (f) => 'xsrf' in f.fields && 'user_code' in f.fields, 'the user code form');

  // 2. Submit the user code -> confirmation page.
  page = await submit(page, form, { user_code: userCode });
  form = findForm(page, (f) => f.fields.confirm === 'yes', 'the device confirmation form (is the user code valid?)');

  // 3. Confirm -> redirected into the login interaction.
  page = await submit(page, form);

  for (let step = 0; step < MAX_STEPS; step += 1) {
    const fs = forms(page.text);
    const login = fs.find((f) => f.fields.prompt === 'login');
    const consent = fs.find((f) => f.fields.prompt === 'consent');

    if (login) {
      page = await submit(page, login, { login: ACCOUNT, password: 'any-password' });
    } else if (consent && mode === 'approve') {
      page = await submit(page, consent);
    } else if (consent && mode === 'deny') {
      const cancel = page.text.match(/<a\s[^>]*href="([^"]*\/abort)"[^>]*>\s*\[ Cancel \]/i);
      if (!cancel) fail(`no [ Cancel ] link on consent page ${page.url.href}`);
      page = await navigate('GET', new URL(decodeEntities(cancel[1]), page.url));
    } else {
      // A terminal page.
      const t = title(page.text);
      if (mode === 'approve') {
        if (t === 'Sign-in Success' && /was successful/.test(page.text)) return 'approved: "Sign-in Success"';
        fail(`approve did not end on the success page; got "${t}" at ${page.url.href}: ${summary(page.text)}`);
      } else {
        if (/The Sign-in request was interrupted/.test(page.text)) return 'denied: "The Sign-in request was interrupted"';
        fail(`deny did not end on the "interrupted" page; got "${t}" at ${page.url.href}: ${summary(page.text)}`);
      }
    }
  }
  return fail(`gave up after ${MAX_STEPS} interaction steps at ${page.url.href}`);
}

const [issuer, userCode, mode] = process.argv.slice(2);
if (!issuer || !userCode || !['approve', 'deny'].includes(mode)) {
  console.error('usage: node browser.mjs <issuer-url> <user_code> approve|deny');
  process.exit(2);
}

// Hard upper bound on the whole run, whatever happens.
const overall = setTimeout(() => {
  console.error('browser.mjs: overall timeout');
  process.exit(3);
}, REQUEST_TIMEOUT_MS * (MAX_STEPS + 4));
overall.unref();

try {
  const outcome = await run(issuer, userCode, mode);
  console.log(`browser.mjs: ${outcome}`);
  process.exit(0);
} catch (err) {
  console.error(`browser.mjs: ${mode} failed: ${err instanceof BrowserError ? err.message : err.stack}`);
  process.exit(1);
}
