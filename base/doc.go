// Package base provides the [Authorizer] interface and [Transport], the
// [http.RoundTripper] that sends every request with a valid RFC 6750
// bearer token, or an RFC 9449 DPoP-bound token with a proof per request,
// and keeps that token fresh.
//
// # Use
//
//	client := base.NewClient(authz)          // or base.New(authz, opts...) to check options
//	defer client.Transport.(*base.Transport).Close()
//	resp, err := client.Get("https://api.example.com/v1/things")
//
// A service calls [Transport.Token] once at start-up: a wrong issuer,
// client or secret is then a typed error before the first request, instead
// of a backoff that looks like an outage later.
//
// # The token lifecycle
//
// A Transport holds one token per Authorizer and walks it through these
// states, so that no request waits on a refresh while a usable token exists:
//
//  1. Fresh: the token is sent as it is. Checking it costs an atomic load and
//     a time comparison: no mutex, no allocation.
//  2. Stale: from the earlier of the refresh-ahead point (once less than
//     min(5 minutes, half the token's lifetime) remains, moved earlier at
//     random by up to a tenth; [WithRefreshAhead]) and the start of the
//     expiration gap ([data.EffectiveGap] of the same lifetime that
//     [TokenExpired] uses), [Authorizer.Expired] is consulted on every
//     request. While it says no, one background refresh starts and requests
//     keep going out at once with the current token.
//  3. Unusable: there is no token yet, Expired says so, or a resource server
//     refused it. Callers share one token request: Refresh with the newest
//     token when one exists (falling back to Authorize once when the
//     refresh is refused as bad credentials), else Authorize. Each caller
//     waits at most until its own context ends; the request itself runs on
//     a detached context with its own timeout ([WithFetchTimeout]), so a
//     cancelled caller never fails the others.
//  4. A token that has not actually reached its Expiry keeps being sent
//     while token requests fail or back off, and to a caller whose own
//     context ends while it waits.
//
// Every decision a caller makes after waiting reads the Transport's current
// token again, never the copy it loaded before: a token refused meanwhile is
// never sent, and Refresh always gets the newest token (providers that
// rotate refresh tokens revoke the whole grant when an old one is reused).
//
// A token is adopted (from the Authorizer or a cache) only when its type is
// Bearer (in any case, or empty; RFC 6749 §7.1), or DPoP (in any case) and
// the token carries its key ([dpop.KeyOf]), and its access token is an
// RFC 6750 b64token; when a token has an Expiry but no ExpiresIn, ExpiresIn
// is filled in from the Expiry (on a copy) so that TokenExpired and the
// refresh-ahead point agree on its lifetime. Any other token, and a token
// Expired calls expired at birth, is refused with an
// [*authorizer.AuthorizationError], never cached, and counts as a failed
// token request.
//
// # Failures and backoff
//
// After each failure the next token request waits: after the n-th failure
// in a row, a random time between the minimum and min(maximum,
// minimum·2^(n-1)) (1 s to 30 s by default, [WithBackoff]), or the server's
// Retry-After (capped at 10 minutes). Meanwhile callers without a usable
// token fail fast with an [*authorizer.AuthorizationError] that wraps
// [authorizer.ErrBackoff] and the failure itself. However many requests
// arrive, there is at most one token request per backoff step. The backoff
// never schedules the next token request after a still-usable token expires
// (unless the server's Retry-After says so): one more request is made while
// the token works, so that a provider that has come back is found before
// any caller fails. Backoff deadlines are on the monotonic clock: a step of
// the wall clock neither stalls nor hastens recovery.
//
// A token useless at once counts toward the backoff like a failed request:
// one expired at birth, or one a resource server refuses (401) before it
// accepted any request with it. So an API that refuses every token (a
// wrong audience, say) costs a handful of token requests, not one per API
// request; a token that worked and is then refused was revoked, and is
// replaced at once.
//
// A panic in the Authorizer or the cache, which run on the Transport's own
// goroutine, is recovered there and logged with its stack; the waiters get
// an [*authorizer.AuthorizationError], the attempt counts as a failure, and
// the Transport stays usable.
//
// # A 401 answer
//
// The refused token is retired whatever the request's body: it is never
// sent again, never adopted from the cache again, and deleted from the
// cache by the token request that replaces it (under a [CacheLocker]'s
// lock: deleted earlier, a sharer still holding the token it was renewed
// from could refresh with an exchanged refresh token). Until then, other
// sharers may adopt it and get a 401 of their own.
// If it was the current one, one token request replaces it (so that 100
// concurrent 401s cause one refresh). The 401's body is read into memory (up
// to 64 KiB) and its connection released, then the request is sent once
// more with the new token when its body can be replayed (no body, or
// Request.GetBody set). It is never replayed twice; a 401 to the replay
// retires that token too. When no new token can be had (the token request
// fails or backs off) or the body cannot be replayed, the caller gets the
// original 401 response, not an error.
//
// # Tokens bound to a key (DPoP)
//
// A DPoP-bound token (RFC 9449; [dpop.Bind], e.g. from an oauth2auth
// authorizer with WithDPoP) is sent as "Authorization: DPoP <token>" with
// a DPoP header holding a new proof for each request, signed by the
// token's key: htm the request's method, htu its URL without query and
// fragment, iat now, a random jti, ath the token's hash (computed once
// per token), and the resource server's newest nonce. Every case variant
// of a caller's own DPoP header is removed first. A DPoP token is never
// sent as Bearer, and one without its key is refused at adoption. A
// request for which no proof can be signed (a method that is not an HTTP
// token, a URL without host) fails with an [*authorizer.AuthorizationError]
// and nothing is sent. The cost is one signature per request.
//
// Nonces: the Transport remembers the DPoP-Nonce of every answer to a
// request sent with a DPoP token, per origin ([dpop.Nonces]). A 401 that
// asks for a nonce (WWW-Authenticate: DPoP error="use_dpop_nonce" with a
// DPoP-Nonce, [dpop.ResourceNonceChallenge]) does not retire the token:
// the request is sent once more with a proof carrying the nonce, by the
// body rules of a 401 replay (no body, or GetBody; the 401's body is kept
// and its connection released first). A 401 to that replay is an ordinary
// 401 (the token is retired, one new token, one replay, which may answer
// one more nonce challenge): a request is sent at most four times, never
// in a loop. When the body cannot be replayed, the caller gets the
// challenge and the next request carries the nonce.
//
// DPoP tokens are never written to a [WithCache] cache (the key never
// leaves the process), so a shared store shares no DPoP tokens; a DPoP
// token read from one without its key is a miss. [Transport.Credential]
// (gRPC) refuses DPoP tokens: a call there has no method and URL to sign.
//
// # Close
//
// [Transport.Close] cancels a token request in flight; callers waiting for
// it and every later request fail with [authorizer.ErrClosed] without
// reaching the inner RoundTripper. Close waits for the token request's
// goroutine at most 2 seconds: an Authorizer that ignores ctx (e.g.
// [FromTokenSource], whose TokenSource takes none) may finish after Close
// has returned. A Transport that is never closed leaks nothing: it has no
// timer and no goroutine between token requests, and refreshes only when a
// request needs it.
//
// # Where credentials go
//
// Credentials (Authorization and X-Api-Key) are sent only over https, or
// over plain http to loopback hosts, unless [InsecureAllowHTTP] is given;
// any other request fails with [authorizer.ErrInsecureTransport] before it
// leaves. When [http.Client] follows a redirect to another origin (host,
// port, or https to http), the redirected request carries neither header,
// unless its host is listed with [WithAllowedHosts]. Every case variant of
// those headers in the caller's request ("authorization") is removed
// before the SDK's are set.
//
// # Caches shared beyond one Transport
//
// [WithCache] keeps the token in a [TokenCache] as well: in a file for
// command-line tools, or in a store shared by every replica of a service.
// A usable token in the cache is adopted without any lock. Otherwise, when
// the cache is also a [CacheLocker], the token request is made under its
// lock, after re-reading the cache, so that all sharers make one token
// request per token lifetime; a lock that fails or does not answer within
// min(2 s, a quarter of [WithFetchTimeout]) is logged and the Transport
// requests a token on its own. Load and Store failures are logged and
// ignored. Refresh gets the newest token the sharers know: a cached token
// issued after the Transport's own, even one that has expired or was
// refused, so that an idle replica never hands a provider that rotates
// refresh tokens one another replica already exchanged; and a refused
// token leaves a locking cache only under its lock, replaced by the sharer
// that deletes it.
//
// # Options
//
// An invalid option value is never dropped or replaced: [New] returns an
// [*authorizer.InvalidConfigError] naming it, and a Transport from
// [NewTransport] or [NewClient] fails every RoundTrip and Token with that
// error. nil for an optional dependency (logger, hook, inner RoundTripper,
// cache) means the documented default.
//
// # Writing an Authorizer
//
// Implement Authorize, Expired (use [TokenExpired] unless you know better)
// and Refresh; return the typed errors of package authorizer. The Transport
// does the caching, sharing, backoff and 401 handling; the Authorizer only
// talks to its identity provider.
package base
