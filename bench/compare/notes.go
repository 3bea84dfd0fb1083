package main

// notes closes results.md: the setup and how each figure is measured.
const notes = `
## Setup

All traffic stays on 127.0.0.1. Each library, in each scenario, gets its own
client-credentials token endpoint (JSON ` + "`access_token`, `token_type`, `expires_in`" + `;
latency, 503, connection refused and 429 + Retry-After under the harness's control)
and its own API, which accepts only a token that endpoint issued, has not revoked,
and that has not expired.

- **authorizer**: ` + "`base.NewTransport`" + ` over a client-credentials ` + "`base.Authorizer`" + ` written as
  a user would (` + "`sdkauthz.go`" + `: POST with ctx, ` + "`Expired` = `base.TokenExpired`" + `, typed
  errors with status, RFC 6749 fields and Retry-After), default options: refresh ahead
  at min(5 min, lifetime/2), backoff 1-30 s with full jitter.
- **x/oauth2**: ` + "`clientcredentials.Config.TokenSource`" + ` (ReuseTokenSource over the endpoint)
  in ` + "`oauth2.Transport`" + `, early expiry min(10 s default, lifetime/4) through
  ` + "`ReuseTokenSourceWithExpiry`" + `. It has no API-key option: X-Api-Key is added by a
  small RoundTripper under it, as users do.
- **cloud.google.com/go/auth**: a client-credentials ` + "`auth.TokenProvider`" + ` (` + "`gcptp.go`" + `)
  in ` + "`auth.NewCachedTokenProvider`" + ` (stale window min(225 s default, lifetime/2)), in
  ` + "`httptransport.NewClient`" + ` with explicit ` + "`Credentials`" + ` and telemetry off; X-Api-Key
  through ` + "`Options.Headers`" + `.

Tokens live seconds here so that expiries happen within the run; each library's
early-expiry window is shrunk for them the way this SDK shrinks its own (for
hour-long tokens all three are at their defaults).

## How each figure is measured

1. ` + "`testing.Benchmark`" + ` of ` + "`RoundTrip`" + ` with a cached token over a no-op inner
   transport, from one goroutine and with ` + "`RunParallel`" + ` (the shapes of
   ` + "`base.BenchmarkRoundTrip`" + ` and ` + "`BenchmarkRoundTripParallel`" + `).
2. The load starts when the first token has arrived and lasts one token lifetime
   plus 250 ms. A request's *added wait* runs from the caller's ` + "`Do`" + ` to the moment
   the library hands the request to the inner transport (a probe in the request's
   context, stamped by the innermost RoundTripper): the time token handling held
   it, without the API's own latency. The same load through a plain
   ` + "`http.Client`" + ` with no token handling gives the floor shown in the measure's
   name: waits at or below it are the scheduler and the garbage collector on this
   machine, not the library; the garbage collector is paused during the load
   (its assists otherwise add milliseconds at random to every client alike).
   Token requests are counted by a RoundTripper under each library's token
   client (so refused connections count too); requests starting within the
   endpoint's latency + 100 ms of each other belong to one refresh. With
   8 s tokens this SDK may begin its second refresh (at about 0.9 of the
   lifetime plus the latency) inside the window: that is a refresh of the
   next token, not a duplicate.
3. a: a token that outlives the outage by 2 s is cached; the outage starts 2 s
   later (3 s in -quick), and the load runs past the token's expiry until the
   library's first success after it (or the cap). "While the token was valid"
   counts requests started up to 100 ms before its expiry.
   b: the endpoint fails from the first request; the load runs through the
   outage and until the library's first success after it (or the cap).
   "Failing requests" is the time a failed request took to fail. The scenario
   runs three times (once in -quick), because backoff with full jitter decides
   when the next token request goes out: the rows marked "each of 3 runs" show
   every run, the others the first.
4. No token; the endpoint takes 1 s. The first caller's context is cancelled
   after 200 ms; 50 ms after it started, 50 callers with a 5 s timeout each need
   a token too.
5. A token is cached, then the API revokes it; 100 requests start at once (the
   endpoint takes 50 ms). A request "finally succeeded" when its caller got a 200.
6. 127.0.0.1 answers 302 to ` + "`http://localhost:<port>`" + `; an https server (whose
   certificate the client trusts) answers 302 to a plain-http server. The
   receiving servers record whether Authorization or X-Api-Key arrived.
7. No token; the endpoint answers 429 with Retry-After: 2 for 2 s from the
   first token request, then issues tokens. Load: 10 goroutines, one request per
   50 ms each. Times are the endpoint's arrival times.
`
