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
// Within one process that holds for cookie sessions and stored ones alike.
// Across processes (replicas, or the old and the new process of a
// restart) only a [Config].SessionStore can coordinate: when it is a
// [SessionLocker], one replica redeems a session's refresh token while the
// others wait (up to 10 s) for the session it stores, then use it; if the
// wait runs out, or the store fails, the request is served with the
// session as it is (its access token is refreshed ahead of expiry, so
// usually still valid) and a later request tries again. When it is a
// [SessionReplacer], the refreshed session is written only over the value
// it was refreshed from, so a session deleted meanwhile (sign-out, or a
// back-channel logout taken by any replica) stays deleted. [MemoryStore]
// and the Redis store (package redisstore) are both; a custom store
// without them keeps working, one refresh per session per process.
// Cookie sessions have no shared state: a cookie older than the latest
// refresh that reaches another process (a replica, or this app after a
// restart) redeems the rotated refresh token again, and a provider that
// rotates refresh tokens refuses it and signs the user out. With rotating
// refresh tokens and more than one process, use a SessionStore that is a
// SessionLocker.
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
// process through a deny list. A refused token is answered 400; a logout
// that fails on this side (the Login closed or closing, the provider's
// keys or the session store unavailable) is answered 503 with
// Retry-After, and its token is not remembered as seen, so that the
// provider's retry is taken.
//
// # Concurrency
//
// A Login is safe for concurrent use; Close stops using its key source
// and cuts the refresh grants in flight; Shutdown (for a rolling restart)
// lets them finish first, so that a refresh token the provider rotated is
// not lost. An
// Identity is safe for concurrent use for the request it belongs to and
// after it.
package web
