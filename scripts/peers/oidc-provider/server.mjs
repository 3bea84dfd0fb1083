// Local OpenID Provider (panva oidc-provider) for the SDK's integration tests.
// Loopback only, in-memory state, dev-only login pages (any login name,
// password ignored). Started by start.sh; see its header for the environment.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { registerTokenExchange, TOKEN_EXCHANGE } from './tokenexchange.mjs';
import Provider, { errors } from 'oidc-provider';

const PORT = Number(process.env.PORT || 9010);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const ACCESS_TOKEN_TTL = Number(process.env.ACCESS_TOKEN_TTL || 60);
const REFRESH_TOKEN_TTL = Number(process.env.REFRESH_TOKEN_TTL || 86400);
const DEVICE_CODE_TTL = Number(process.env.DEVICE_CODE_TTL || 600);

// Resource indicator (RFC 8707) whose access tokens are RS256 JWTs with aud + exp.
const RESOURCE = 'urn:sdk-test:api';
const RESOURCE_SCOPES = 'api:read api:write';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// The web app of package web's tests (confidential, code + PKCE, refresh,
// RP-initiated and back-channel logout) listens on WEB_APP_PORT (default
// PORT + 1000), so each provider instance has its own app origin.
const WEB_APP_PORT = Number(process.env.WEB_APP_PORT || PORT + 1000);
const WEB_APP = `http://${HOST}:${WEB_APP_PORT}`;

// Fresh signing key per process; verifiers must read /jwks. Its kid is
// KEY_ID (default peer-rs256, the same on every start).
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY_ID = process.env.KEY_ID || 'peer-rs256';
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: KEY_ID, use: 'sig', alg: 'RS256' };

// DPoP (RFC 9449): proofs are checked for every client that sends one; the
// clients below must send one (dpop_bound_access_tokens) with a server nonce
// (requireNonce). The nonces are HMACs under a fixed 32-byte secret, SHA-256
// of a public phrase: not a secret, this is a test peer.
const DPOP_NONCE_SECRET = createHash('sha256').update('authorizer oidc-provider peer DPoP nonces; not a secret').digest();
const DPOP_NONCE_CLIENTS = new Set(['sdk-dpop', 'sdk-dpop-native']);

const confidential = (id, method) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  token_endpoint_auth_method: method,
  grant_types: ['client_credentials', DEVICE_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
});

const configuration = {
  clients: [
    confidential('sdk-cc-basic', 'client_secret_basic'),
    confidential('sdk-cc-post', 'client_secret_post'),
    // secret with reserved characters: Basic auth must form-urlencode id and
    // secret before base64 (RFC 6749 2.3.1), or this client fails to authenticate
    { ...confidential('sdk-cc-special', 'client_secret_basic'), client_secret: 's:e/c+r&e=t% x' },
    // a confidential client that may NOT use client_credentials: the token
    // endpoint answers 400 invalid_request "requested grant type is not
    // allowed for this client", for the "grant the client may not use" test.
    { ...confidential('sdk-cc-limited', 'client_secret_basic'), grant_types: [DEVICE_GRANT] },
    // private_key_jwt (RFC 7523): the public half of an Ed25519 test key whose
    // seed is SHA-256("authorizer sdk-cc-jwt test key; not a secret"); the
    // integration test derives the private key from the same seed.
    {
      client_id: 'sdk-cc-jwt',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'EdDSA',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '7LPt-xvCjbIA6CM9Pvqgqc4g0M2XkKYP7Ro0qK0uBYM', kid: 'sdk-cc-jwt-1', use: 'sig' }] },
    },
    // private_key_jwt for the user flows: the same Ed25519 key as sdk-cc-jwt,
    // with the device grant and refresh tokens, so the device authorization
    // and revocation requests must carry the client's assertion too.
    {
      client_id: 'sdk-device-jwt',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'EdDSA',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '7LPt-xvCjbIA6CM9Pvqgqc4g0M2XkKYP7Ro0qK0uBYM', kid: 'sdk-cc-jwt-1', use: 'sig' }] },
    },
    // token exchange (RFC 8693, tokenexchange.mjs): a confidential client
    // that exchanges its own client-credentials tokens and users' tokens.
    {
      ...confidential('sdk-exchange', 'client_secret_basic'),
      grant_types: ['client_credentials', TOKEN_EXCHANGE],
    },
    // private_key_jwt with assertions written to a file (workload identity):
    // the public half of an Ed25519 test key whose seed is
    // SHA-256("authorizer sdk-assert-file test key; not a secret").
    {
      client_id: 'sdk-assert-file',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'EdDSA',
      grant_types: ['client_credentials', TOKEN_EXCHANGE],
      response_types: [],
      redirect_uris: [],
      jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'oa07J1ajpjTJeC1FT4slCcPpSobwA_0TLpuKmTR8l-g', kid: 'sdk-assert-file-1', use: 'sig' }] },
    },
    {
      // public native client: auth code + PKCE (S256) with loopback redirect on
      // any port (RFC 8252 7.3), device flow, refresh tokens.
      client_id: 'sdk-native',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/'],
    },
    // DPoP: a confidential client whose client-credentials tokens must be
    // DPoP-bound (nonce required) ...
    {
      ...confidential('sdk-dpop', 'client_secret_basic'),
      grant_types: ['client_credentials'],
      dpop_bound_access_tokens: true,
    },
    // ... and a public native one (like sdk-native), whose refresh tokens are
    // bound to the key too (oidc-provider binds a public client's refresh
    // tokens to the proof's jkt).
    {
      client_id: 'sdk-dpop-native',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/'],
      dpop_bound_access_tokens: true,
    },
    {
      client_id: 'sdk-web',
      client_secret: 'sdk-web-secret',
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [`${WEB_APP}/oidc_callback`],
      post_logout_redirect_uris: [`${WEB_APP}/sign-out`],
      backchannel_logout_uri: `${WEB_APP}/backchannel-logout`,
      backchannel_logout_session_required: true,
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['peer-cookie-key-1', 'peer-cookie-key-2'] },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    dPoP: {
      enabled: true,
      nonceSecret: DPOP_NONCE_SECRET,
      requireNonce: (ctx) => DPOP_NONCE_CLIENTS.has(ctx.oidc?.client?.clientId),
    },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPES,
          audience: RESOURCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Outgoing requests (back-channel logout tokens) go to the loopback web
  // app, which oidc-provider's SSRF guard refuses as a special-use address:
  // this peer only ever talks to 127.0.0.1, so its guard is dropped.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    RefreshToken: REFRESH_TOKEN_TTL,
    DeviceCode: DEVICE_CODE_TTL,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: REFRESH_TOKEN_TTL,
  },
  // Every login name is an account; the dev login page ignores the password.
  findAccount: (ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: `${sub}@example.test`, email_verified: true, name: sub }),
  }),
};

const provider = new Provider(ISSUER, configuration);
registerTokenExchange(provider, { issuer: ISSUER, privateKey, publicKey, kid: KEY_ID, ttl: ACCESS_TOKEN_TTL });
// The stock pages @import a web font from the internet; this CSP stops browsers
// from fetching it (traffic stays on loopback). oidc-provider adds the hash of its
// own inline auto-submit script to script-src by itself.
provider.use(async (ctx, next) => {
  ctx.set('Content-Security-Policy', "default-src 'self'; style-src 'unsafe-inline'; script-src 'self'");
  await next();
});
// Back-channel logout failures are worth a line in the peer's log.
provider.on('backchannel.error', (ctx, err, client) => {
  console.log(`backchannel logout to ${client.clientId} failed: ${err.message} ${err.cause ? (err.cause.code || err.cause.message) : ''}`);
});
provider.listen(PORT, HOST, () => {
  console.log(`oidc-provider listening on ${ISSUER} (access token ttl ${ACCESS_TOKEN_TTL}s; web app client sdk-web at ${WEB_APP})`);
});
