// Package base provides the Authorizer interface and Transport, the
// http.RoundTripper that sends every request with a valid token (RFC 6750
// bearer tokens, or whatever type the Authorizer's tokens name).
//
// # Use
//
//	client := base.NewClient(authz)          // or &http.Client{Transport: base.NewTransport(authz)}
//	resp, err := client.Get("https://api.example.com/v1/things")
//
// # The token lifecycle
//
// A Transport holds one token per Authorizer and walks it through these
// states, so that no request waits on a refresh while a usable token exists:
//
//  1. Fresh: the token is sent as it is. Checking it costs an atomic load and
//     a time comparison: no mutex, no allocation.
//  2. Stale: once less than min(5 minutes, half the token's lifetime) remains
//     (WithRefreshAhead; with a little jitter), one background refresh
//     starts, and requests keep going out at once with the current token.
//     Authorizer.Expired is consulted from here on.
//  3. Unusable: there is no token yet, Expired says so, or a resource server
//     refused it. Callers share one token request: Refresh when a token
//     exists (falling back to Authorize once when the refresh is refused as
//     bad credentials), else Authorize. Each caller waits at most until its
//     own context ends; the request itself runs on a detached context with
//     its own timeout (WithFetchTimeout), so a cancelled caller never fails
//     the others.
//
// Failures: while token requests fail, a token that has not actually
// reached its expiry keeps being sent. After each failure the next token
// request waits (exponential backoff with full jitter, 1 s to 30 s by
// default, or the server's Retry-After): meanwhile callers without a usable
// token fail fast with an *authorizer.AuthorizationError that wraps
// authorizer.ErrBackoff and the failure itself. However many requests
// arrive, there is at most one token request per backoff step. The backoff
// never schedules the next token request after a still-usable token expires
// (unless the server's Retry-After says so): one more request is made while
// the token works, so that a provider that has come back is found before any
// caller fails.
//
// A 401 answer: if the refused token is still the current one, it is
// dropped (so that 100 concurrent 401s cause one refresh), a new one is
// obtained, and the request is sent once more when its body can be replayed
// (no body, or Request.GetBody set). It is never replayed twice.
//
// # Where credentials go
//
// Credentials (Authorization and X-Api-Key) are sent only over https, or
// over plain http to loopback hosts, unless InsecureAllowHTTP is given; any
// other request fails with authorizer.ErrInsecureTransport before it leaves.
// When http.Client follows a redirect to another origin (host, port, or
// https to http), the redirected request carries neither header, unless its
// host is listed with WithAllowedHosts.
//
// # Caches shared beyond one Transport
//
// WithCache keeps the token in a TokenCache as well: in a file for
// command-line tools, or in a store shared by every replica of a service.
// When the cache is also a CacheLocker, token requests are made under its
// lock, after re-reading it, so that all sharers make one token request per
// token lifetime.
//
// # Writing an Authorizer
//
// Implement Authorize, Expired (use TokenExpired unless you know better) and
// Refresh; return the typed errors of package authorizer. The Transport does
// the caching, sharing, backoff and 401 handling; the Authorizer only talks
// to its identity provider.
package base
