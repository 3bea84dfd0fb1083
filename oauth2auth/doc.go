// Package oauth2auth provides OAuth 2.0 (RFC 6749) authorizers for
// [base.Transport]: a service account with the client-credentials grant
// (§4.4), and a signed-in user with the device flow (RFC 8628) or the
// browser with PKCE (RFC 7636, RFC 8252).
//
// # Service accounts
//
// A machine client (a batch job, a backend service) calls an API as itself:
//
//	env := oauth2auth.Environment{
//		Name:      "prod",
//		Issuer:    "https://idp.example.com",          // the token endpoint is discovered
//		Scopes:    []string{"reports:read"},
//		Resources: []string{"https://api.example.com"}, // RFC 8707, optional
//	}
//	info := data.ClientInfo{ClientID: id, ClientSecret: secret}
//	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env)
//	if err != nil {
//		return err // *authorizer.InvalidConfigError: no client id, no endpoint, plain http…
//	}
//	client := base.NewClient(authz) // fetches, caches and renews the token
//	defer client.Transport.(*base.Transport).Close()
//	resp, err := client.Get("https://api.example.com/reports")
//
// Every token request is one client-credentials grant; there is no refresh
// token, so Refresh simply asks again. The scopes granted are in the token
// ([GrantedScopes], i.e. tok.Extra("scope")); when the provider grants
// fewer than were asked for, a warning naming the missing ones is logged
// ([WithLogger]). The Transport renews the token in the
// background before it expires, so requests do not wait.
//
// # Users of command-line tools
//
// A person signs in once and stays signed in across runs: with the device
// flow (RFC 8628: the tool shows a code, the user confirms it in any
// browser) or in the system browser (authorization code with PKCE, RFC 7636,
// through a one-shot loopback redirect on 127.0.0.1, RFC 8252):
//
//	cache, err := filecache.New() // 0600 files, atomic, locked; WithEncryptionKey for AES-GCM
//	if err != nil {
//		return err
//	}
//	env := oauth2auth.Environment{Issuer: "https://idp.example.com", Scopes: []string{"openid", "offline_access"}}
//	authz, err := oauth2auth.NewBrowserAuthorizer(data.ClientInfo{ClientID: "my-cli"}, env,
//		oauth2auth.WithTokenCache(cache))          // or NewDeviceAuthorizer
//	if err != nil {
//		return err
//	}
//	if _, err := authz.Authorize(ctx); err != nil { // cached token, refresh, or sign-in
//		return err
//	}
//	client := base.NewClient(authz)
//
// Authorize uses the cached token when it is valid, refreshes it when it
// has expired (keeping a rotated refresh token), and signs the user in only
// when neither works. Ask for "offline_access" (OpenID Connect) to get a
// refresh token: without one, the session ends with the access token. Processes sharing the file cache hold its lock across
// a sign-in and re-read the cache after taking it: two runs started at once
// cause one sign-in. A refused refresh token ends in a typed
// *[authorizer.InvalidCredentialsError] unless WithInteractiveReauth(true)
// allows a new interactive sign-in. SignIn forces one (a "login" command);
// SignOut forgets the tokens and revokes them (RFC 7009).
//
// The state parameter, the PKCE verifier, the nonce and the ID token
// (issuer, audience, expiry, signature against the provider's keys) are
// checked; none of them, nor any code or token, is ever logged.
//
// Call Authorize with the command's own context before the first request:
// the Transport bounds each token request by its fetch timeout (30 s by
// default), too short for a person.
//
// # Environments
//
// An [Environment] names an identity provider and what to ask it for.
// Define them in code, read one from the process environment
// ([EnvironmentFromEnv], with the client from [ClientInfoFromEnv]), or load
// several named ones from a JSON file ([LoadEnvironments]). With only an
// Issuer, the endpoints are discovered from its OpenID Connect or RFC 8414
// metadata ([Environment.Discover]); the issuer in the metadata must match,
// an https issuer's endpoints must be https, and no redirect is followed.
// Each authorizer discovers once, shares the result among its callers and
// discovers again after [DiscoveryTTL]; nothing is cached process-wide.
// [CognitoEnvironment] builds the environment of an Amazon Cognito user
// pool domain.
//
// # Client authentication
//
// The client authenticates exactly one way, never by trial, and the same
// way at every endpoint (token, device authorization, revocation):
// [ClientSecretBasic] (the default, with RFC 6749 §2.3.1 encoding of id and
// secret), [ClientSecretPost], or [PrivateKeyJWT] (RFC 7523,
// [WithPrivateKeyJWT]). Configuration can choose it without code:
// Environment.ClientAuth (<PREFIX>_CLIENT_AUTH, "client_auth" in a JSON
// file), with ClientKeyFile for a private_key_jwt key.
//
// # Options
//
// Every constructor takes [Option] values. An invalid value (a zero
// lifetime, a nil key) or an option of another flow (a token cache given to
// the service account) makes the constructor return an
// *[authorizer.InvalidConfigError] naming the option; nil for an optional
// dependency (HTTP client, logger, clock, cache, prompt) means its
// documented default.
//
// # Errors
//
// Failures are typed (package authorizer): a refused client is an
// *[authorizer.InvalidClientError], a refused grant an
// *[authorizer.InvalidCredentialsError], anything else an
// *[authorizer.AuthorizationError] carrying the RFC 6749 §5.2 error code,
// the HTTP status and Retry-After; Temporary() tells whether a retry can
// help. A token of a type other than Bearer (or, with [WithDPoP], DPoP)
// is an *[UnsupportedTokenTypeError]; a Bearer token where a DPoP one was
// asked for is a *[DowngradeError]. No error or log line contains a secret or a
// token: server text is cleaned of control characters and of any secret
// the request sent. Printing an authorizer (fmt, slog, encoding/json) shows
// no secret either.
//
// # Tokens bound to a key
//
// [WithDPoP] makes any flow ask for DPoP-bound tokens (RFC 9449): every
// token request carries a proof of the authorizer's key, the server's
// nonces are handled, and the tokens (type "DPoP") carry their key for
// [base.Transport], which sends each with a fresh proof. See [WithDPoP]
// for the nonce, downgrade and cache rules.
//
// # Security defaults
//
// Endpoints must be https, or http to a loopback host; [InsecureAllowHTTP]
// lifts that. No request to the provider follows a redirect (token, device
// authorization, revocation, discovery, key set), answers are read up to
// 1 MiB, and the default HTTP client has a timeout ([DefaultHTTPTimeout]).
// An access token that is not a valid header value is refused when it
// arrives. A token without expires_in lives for [data.DefaultTokenLifetime]
// ([WithDefaultLifetime]), never forever.
//
// # Concurrency and context
//
// Every authorizer is safe for concurrent use. Its methods forward ctx to
// every request they make and return an error wrapping ctx.Err() once ctx
// is done.
package oauth2auth
