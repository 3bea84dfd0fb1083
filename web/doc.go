// Package web provides OpenID Connect sign-in (OpenID Connect Core 1.0, the
// authorization code flow of RFC 6749 §4.1 with PKCE, RFC 7636) for Go web
// servers, as one middleware: it runs the login, keeps a sealed session,
// refreshes the user's access token, and handles RP-initiated logout and
// OpenID Connect Back-Channel Logout 1.0.
//
// # Use
//
//	cfg, err := web.ConfigFromEnv("AGS_CLIENT")     // or fill in a web.Config
//	login, err := web.New(cfg)                      // *authorizer.InvalidConfigError
//	defer login.Close()
//	http.ListenAndServe(addr, login.Wrap(app))
//
// In the app:
//
//	id, ok := web.IdentityFrom(r.Context())          // ok on signed-in requests
//	fmt.Fprintf(w, "hello %s", id.Subject)
//	client := base.NewClient(id)                     // calls APIs as the user
//
// # What the middleware owns
//
// [Login.Wrap] intercepts the protected paths ([Config].ProtectedPaths), the callback,
// the sign-out path and the back-channel logout path; every other request
// goes to the app, with the [Identity] in its context when the browser has a
// session. The middleware's own cookies are removed from the request the app
// receives.
//
// A protected path without a session: a browser GET (or HEAD) is redirected
// to the provider; any other method, and a request that asks for JSON,
// gets 401. Paths are matched on the cleaned URL path only (see
// [Config].ProtectedPaths), so encoded slashes, dot segments, double slashes, a
// query or a fragment never bypass the check. A request is protected when
// any reading of its path is protected: as given (URL.Path and URL.RawPath),
// decoded further, with backslashes as slashes, without ";" parameters.
//
// # Login
//
// Each login gets its own sealed flow cookie (10 minutes, at most 5 per
// browser) holding the state, the nonce (256 bits each), the PKCE S256
// verifier and the page to return to. On the callback the state is checked
// before the code is redeemed, the iss parameter (RFC 9207) is checked when
// the provider sends it (and required when its metadata says it does), and
// the ID token is verified with package verify: signature, iss, aud, exp,
// azp, and the nonce.
//
// # Sessions
//
// Sessions are sealed with AES-256-GCM under keys derived with HKDF-SHA256
// from [Config].SessionSecret, one per purpose (session, flow, store id); the
// [Config].OlderSessionSecrets are accepted for reading. The tokens are stored
// in binary (JWT segments and base64url strings decoded) and deflated: a
// realistic session (ID token 1.1 KB, access token 1.5 KB, refresh token
// 0.9 KB) fits in one cookie of about 1.6 KB. Bigger sessions are split into
// chunks. A cookie that does not open is ignored (logged): the request is
// signed out, never an error. With a [Config].SessionStore the cookie carries
// only a sealed session id.
//
// # Refresh
//
// The access token is refreshed ahead of its expiry, once per session however
// many requests arrive at once; requests that still carry the old cookie get
// the refreshed session (and a new cookie) instead of redeeming the rotated
// refresh token again. A refused refresh ends the session.
//
// # Logout
//
// Sign-out is a POST to [Config].SignOutPath whose Origin (or Referer) is the
// app's own; it ends the session and, when the provider has an
// end_session_endpoint, sends the browser there (id_token_hint,
// post_logout_redirect_uri, state checked on return). Back-channel logout
// tokens posted to [Config].BackChannelLogoutPath are verified (signature, iss,
// aud, iat, events, sid or sub, no nonce, jti not seen before) and end every
// session of that sid or sub: deleted from the store, and refused in this
// process through a deny list.
//
// # Concurrency
//
// A Login is safe for concurrent use; Close stops using its key source. An
// Identity is safe for concurrent use for the request it belongs to and
// after it.
package web
