// openid-client 6 (panva) wrapped to the conformance kit's contract (sim/README.md): the
// server's metadata from discovery at ISSUER, then initiateDeviceAuthorization,
// pollDeviceAuthorizationGrant (the library's own polling loop) and refreshTokenGrant, as an
// application would call them. allowInsecureRequests because the simulator serves plain http
// on 127.0.0.1. Errors are reported by their message and OAuth error code only: the library's
// error objects carry the response, which this wrapper keeps off the terminal.
import * as client from 'openid-client';

const env = process.env;

function fail(step, error) {
  const code = error?.error ? ` (${error.error})` : '';
  console.error(`error: ${step}: ${error?.message ?? error}${code}`);
  // The causes that are errors themselves name what the library found wrong.
  for (let cause = error?.cause; cause instanceof Error; cause = cause.cause) {
    console.error(`  caused by: ${cause.message}`);
  }
  process.exit(error?.error === 'access_denied' ? 3 : error?.error === 'expired_token' ? 4 : 5);
}

const secret = env.CLIENT_SECRET || undefined;
const auth = {
  client_secret_basic: () => client.ClientSecretBasic(secret),
  client_secret_post: () => client.ClientSecretPost(secret),
}[env.CLIENT_AUTH_METHOD]?.() ?? client.None();

let config;
try {
  config = await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
} catch (e) {
  fail('discovery', e);
}

let device;
try {
  device = await client.initiateDeviceAuthorization(config, { scope: env.SCOPE ?? '' });
} catch (e) {
  fail('device authorization', e);
}
console.log(`Open ${device.verification_uri} and enter the code ${device.user_code}`);

let tokens;
try {
  tokens = await client.pollDeviceAuthorizationGrant(config, device);
} catch (e) {
  fail('polling', e);
}
console.log(`access_token=${tokens.access_token}`);

if (env.HARNESS_REFRESH === '1') {
  let refreshToken = tokens.refresh_token;
  for (let i = 0; i < Number(env.HARNESS_REFRESH_COUNT ?? 1); i++) {
    try {
      tokens = await client.refreshTokenGrant(config, refreshToken);
    } catch (e) {
      fail('refresh', e);
    }
    console.log(`refreshed_access_token=${tokens.access_token}`);
    // RFC 6749 §6: a server may keep the refresh token; then the one held stays valid.
    refreshToken = tokens.refresh_token ?? refreshToken;
  }
}
