// OAuth 2.0 Token Exchange (RFC 8693) for the peer: oidc-provider has no
// built-in grant, so registerTokenExchange adds one with
// provider.registerGrantType. Its handler gets the Koa ctx after the token
// endpoint has authenticated the client (ctx.oidc.client), checked that the
// client may use the grant (its grant_types) and collected the registered
// parameters (ctx.oidc.params; audience and resource may repeat); it sets
// ctx.body or throws one of oidc-provider's errors, which become RFC 6749
// §5.2 answers.
//
// The subject (and actor) token must be one this provider issued and that
// is still valid: an opaque access token or client-credentials token from
// its store, or an RS256 JWT signed with its key (tokens for the API
// resource, or issued by this grant). The issued token is an RS256 JWT,
// signed with the provider's key (so /jwks verifies it), with iss, sub (the
// subject's), aud (the audience and resource parameters, else the client),
// client_id (the exchanging client), scope, act (the actor, RFC 8693 §4.1),
// iat, exp and jti.
//
// Policy, for tests: audience "urn:sdk-test:forbidden" is refused with
// invalid_target; requested_token_type other than access_token or jwt is
// refused with invalid_request; an invalid or expired subject or actor token
// with invalid_request (RFC 8693 §2.2.2).
import { createSign, createVerify, randomUUID } from 'node:crypto';
import { errors } from 'oidc-provider';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TT_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const TT_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const FORBIDDEN_AUDIENCE = 'urn:sdk-test:forbidden';

const PARAMS = ['audience', 'resource', 'scope', 'requested_token_type',
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type'];

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const list = (v) => (v === undefined ? [] : [].concat(v));

export function registerTokenExchange(provider, { issuer, privateKey, publicKey, kid, ttl }) {
  const sign = (claims) => {
    const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid })}.${b64(claims)}`;
    const sig = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
    return `${input}.${sig}`;
  };

  // verifyJWT returns the claims of an RS256 JWT this provider signed that
  // has not expired, or undefined.
  const verifyJWT = (value) => {
    const parts = value.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
      if (header.alg !== 'RS256') return undefined;
      const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`)
        .verify(publicKey, Buffer.from(parts[2], 'base64url'));
      if (!ok) return undefined;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
      if (claims.iss !== issuer || typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  };

  // subjectOf returns who a token this provider issued stands for, or throws.
  const subjectOf = async (value, type, name) => {
    if (typeof value !== 'string' || value === '') throw new errors.InvalidRequest(`${name} is missing`);
    if (type !== TT_ACCESS && type !== TT_JWT) throw new errors.InvalidRequest(`${name}_type is not supported`);
    const stored = await provider.AccessToken.find(value) || await provider.ClientCredentials.find(value);
    if (stored && !stored.isExpired) return { sub: stored.accountId || stored.clientId };
    const claims = verifyJWT(value);
    if (claims?.sub) return { sub: claims.sub };
    throw new errors.InvalidRequest(`${name} is invalid or expired`);
  };

  const handler = async (ctx) => {
    const { params, client } = ctx.oidc;
    const requested = params.requested_token_type || TT_ACCESS;
    if (requested !== TT_ACCESS && requested !== TT_JWT) {
      throw new errors.InvalidRequest('requested_token_type is not supported');
    }
    const subject = await subjectOf(params.subject_token, params.subject_token_type, 'subject_token');
    const actor = params.actor_token === undefined ? undefined
      : await subjectOf(params.actor_token, params.actor_token_type, 'actor_token');
    const audiences = [...list(params.audience), ...list(params.resource)];
    if (audiences.includes(FORBIDDEN_AUDIENCE)) throw new errors.InvalidTarget('audience is not allowed');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: subject.sub,
      aud: audiences.length === 0 ? client.clientId : (audiences.length === 1 ? audiences[0] : audiences),
      client_id: client.clientId,
      scope: params.scope || undefined,
      act: actor ? { sub: actor.sub } : undefined,
      iat: now,
      exp: now + ttl,
      jti: randomUUID(),
    };
    ctx.body = {
      access_token: sign(claims),
      issued_token_type: requested,
      token_type: 'Bearer',
      expires_in: ttl,
      scope: claims.scope,
    };
  };

  provider.registerGrantType(TOKEN_EXCHANGE, handler, PARAMS, ['audience', 'resource']);
}
