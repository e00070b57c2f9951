// Test authorization server for device-grant end-to-end tests.
//
// Runs the independent `oidc-provider` implementation (pinned in package.json)
// with the OAuth 2.0 Device Authorization Grant (RFC 8628) enabled, on
// 127.0.0.1 only. When it listens it prints exactly one JSON line to stdout:
//   {"issuer":"http://127.0.0.1:PORT","device_authorization_endpoint":"...","token_endpoint":"...",...}
// and then runs until SIGTERM/SIGINT or until stdin reaches EOF.
//
// Env: PORT (default 0 = ephemeral), DEVICE_CODE_TTL (seconds, default 600),
//      POLL_INTERVAL (seconds, default 1), IGNORE_STDIN=1 (do not exit on stdin EOF),
//      DPOP_NONCE=1 (every DPoP proof must carry the server's nonce, RFC 9449 section 8).
// DPoP (features.dPoP) and token introspection (for confidential clients, to check the
// binding server-side) are always on.
// See README.md.

import * as crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';

// oidc-provider prints its notices with console.info (stdout). stdout is
// reserved for the single JSON line, so route all console output to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const { default: Provider } = await import('oidc-provider');

function intEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`server.mjs: ${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const PORT = intEnv('PORT', 0, 0);
const DEVICE_CODE_TTL = intEnv('DEVICE_CODE_TTL', 600, 1);
const POLL_INTERVAL = intEnv('POLL_INTERVAL', 1, 0);
const DPOP_NONCE = process.env.DPOP_NONCE === '1';
const HOST = '127.0.0.1';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_TYPES = [DEVICE_GRANT, 'refresh_token'];

const clients = [
  {
    client_id: 'device-public',
    token_endpoint_auth_method: 'none',
    grant_types: GRANT_TYPES,
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'device-basic',
    client_secret: 'basic-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: GRANT_TYPES,
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'device-post',
    client_secret: 'post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: GRANT_TYPES,
    response_types: [],
    redirect_uris: [],
  },
];

// The ID-token signing key: a test key made once for this harness (signing-key.json),
// instead of oidc-provider's built-in dev keys. It used to be generated at every start, but
// Node 20 can deadlock there: when a garbage collection runs inside
// `KeyObject.export({ format: 'jwk' })`, it destroys the finished key-generation job, whose
// destructor takes the key's mutex that the export holds (seen as a hung server that never
// printed its line). Reading a fixed JWK involves no key-generation job.
const signingJwk = JSON.parse(
  await readFile(new URL('./signing-key.json', import.meta.url), 'utf8'),
);

// Bind first so the issuer can carry the real (possibly ephemeral) port.
const server = http.createServer();
try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
} catch (err) {
  console.error(`server.mjs: cannot listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
}
const { port } = server.address();
const issuer = `http://${HOST}:${port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access'],
  features: {
    // Built-in login (any login + any password) and consent pages; browser.mjs drives them.
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    // On by default in 9.x; spelled out, with nonces on request.
    dPoP: DPOP_NONCE
      ? { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
      : { enabled: true },
    // The default policy lets a confidential client introspect its own tokens.
    introspection: { enabled: true },
  },
  // Default policy, made explicit: a refresh token is issued iff the client
  // may use the refresh_token grant and the granted scope has offline_access.
  issueRefreshToken: async (ctx, client, source) => (
    client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access')
  ),
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    async claims() { return { sub }; },
  }),
  ttl: {
    AccessToken: 3600,
    IdToken: 3600,
    DeviceCode: DEVICE_CODE_TTL,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 24 * 3600,
    Interaction: 3600,
  },
});

// oidc-provider 9.x never includes `interval` in the device authorization
// response (clients must then assume 5 s, RFC 8628 section 3.2) and it never
// answers slow_down itself (its SlowDown error class is unused), so
// advertising a shorter interval cannot trip any server-side rate limit.
provider.use(async (ctx, next) => {
  await next();
  if (
    ctx.method === 'POST'
    && ctx.path === '/device/auth'
    && ctx.status === 200
    && ctx.body
    && typeof ctx.body === 'object'
    && typeof ctx.body.device_code === 'string'
  ) {
    ctx.body.interval = POLL_INTERVAL;
  }
});

// Unexpected server-side failures show up on stderr (expected OAuth errors do not).
provider.on('server_error', (ctx, err) => console.error('server_error', ctx.method, ctx.path, err));

server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({
  issuer,
  device_authorization_endpoint: `${issuer}/device/auth`,
  token_endpoint: `${issuer}/token`,
  verification_uri: `${issuer}/device`,
  jwks_uri: `${issuer}/jwks`,
  introspection_endpoint: `${issuer}/token/introspection`,
  device_code_ttl: DEVICE_CODE_TTL,
  interval: POLL_INTERVAL,
})}\n`);

let stopping = false;
function shutdown(reason) {
  if (stopping) return;
  stopping = true;
  console.error(`server.mjs: shutting down (${reason})`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (process.env.IGNORE_STDIN !== '1') {
  // The parent (a test) holds our stdin open; when it dies, stdin closes.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
