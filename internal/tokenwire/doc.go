// Package tokenwire provides the one client of an OAuth 2.0 authorization
// server that the SDK's authorizers share: every request that carries
// client credentials (token endpoint, RFC 6749 §3.2; device authorization,
// RFC 8628 §3.1; revocation, RFC 7009 §2.1) is sent by [Send], and every
// public document (provider metadata) is fetched by [Fetch]. [Do] sends a
// token request for any grant and turns the answer into an
// *[oauth2.Token] or a typed error of package authorizer; [Request.Refusal]
// maps the error answers of the other endpoints the same way.
//
// # Sending
//
// [Do] posts [Request].Form (grant_type and the grant's parameters) to
// Request.URL, authenticating the client exactly one way ([ClientAuth]):
//
//	tok, err := tokenwire.Do(ctx, tokenwire.Request{
//		URL:    "https://idp.example/oauth2/token",
//		Client: data.ClientInfo{ClientID: "id", ClientSecret: "secret"},
//		Auth:   tokenwire.AuthBasic,
//		Form:   url.Values{"grant_type": {"client_credentials"}},
//	})
//
// The same call serves client_credentials (RFC 6749 §4.4), refresh_token
// (§6), authorization_code (§4.1.3, with the PKCE code_verifier of RFC 7636)
// and the device grant (RFC 8628 §3.4): only Form differs. Credentials are
// never sent twice and never probed: client_id, client_secret and
// client_assertion in Form are replaced by what Auth says.
//
// [Send] and [Fetch] send Accept: application/json, do not follow
// redirects (an endpoint that redirects is an error: the credentials must
// not follow, and metadata must not come from plain http or another host),
// read at most [MaxBodySize] bytes of the answer, always close the body,
// and honour ctx: once ctx is done they return an error for which
// errors.Is(err, ctx.Err()) holds. They are safe for concurrent use and
// keep nothing after they return.
//
// # Parsing
//
// [ParseResponse] is pure: it takes the status, header and body of an
// answer. A 2xx answer with an access_token gives a token whose Expiry
// comes from expires_in; without expires_in the token lives for the given
// default lifetime ([data.DefaultTokenLifetime] when that is zero), never
// forever. The access token must be a valid header value (visible ASCII),
// and token_type must be Bearer in any case (or absent): other types are an
// *[UnsupportedTokenTypeError] (RFC 6749 §7.1). TokenType is then always
// "Bearer". All fields of the answer are kept: tok.Extra("id_token"),
// tok.Extra("scope").
//
// # DPoP
//
// A Request with a DPoP key (RFC 9449) sends a DPoP proof with every
// request it makes (htm POST, htu the token URL, no ath, and the newest
// nonce [Request].Nonces holds for the server's origin), remembers the
// DPoP-Nonce of every answer, and sends once more, with a new proof and a
// new client assertion, when the answer is 400 use_dpop_nonce with a new
// DPoP-Nonce (once: the second answer is final). The answer must then be
// token_type DPoP in any case: TokenType is "DPoP" and the token carries
// the key (dpop.KeyOf). A Bearer answer (or none) is a *[DowngradeError].
// Without a key, a DPoP answer stays an *[UnsupportedTokenTypeError]. The
// proof, like every secret the request sent, is never quoted in an error.
//
// Error answers (RFC 6749 §5.2) become:
//
//   - invalid_client, unauthorized_client, or a 401 without a code:
//     *authorizer.InvalidClientError (Do fills in ClientID);
//   - invalid_grant: *authorizer.InvalidCredentialsError (Do fills in
//     Request.UserName);
//   - 429 and 5xx: *authorizer.AuthorizationError with StatusCode and
//     RetryAfter (Retry-After in seconds or as an HTTP date); Temporary()
//     reports true;
//   - any other code (invalid_request, invalid_scope, invalid_target,
//     authorization_pending, slow_down, expired_token, access_denied, …):
//     *authorizer.AuthorizationError with Code, Description and URI, so a
//     device-flow poller branches on Code;
//   - an HTML page, malformed JSON, a 2xx without access_token: an
//     *authorizer.AuthorizationError that says so.
//
// A 2xx answer carrying an "error" field (some providers answer device-flow
// polls that way) is classified by its code like an error answer.
//
// No error message contains a client secret, an assertion, or a token: the
// body of an answer is never quoted, only the RFC 6749 error fields, from
// which every secret the request sent (client secret, assertion, DPoP
// proof, refresh token, code, verifier, device code, revoked token) is cut
// out ([Scrub])
// before they are shortened and stripped of control characters ([Clean]).
package tokenwire
