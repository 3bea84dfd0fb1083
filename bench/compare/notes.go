package main

import (
	"fmt"
	"strings"
	"time"
)

// notes closes results.md: the setup and how each figure is measured, with
// every number taken from p (so it cannot go stale when params.go changes).
func notes(p params) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	d := fmtDur
	p50, p99 := backoffDelay(p.outage, p.outageLatency, 100000)
	w(`
## Setup

All traffic stays on 127.0.0.1. Each library, in each scenario, gets its own
client-credentials token endpoint (JSON %s; latency, 503, connection refused
and 429 + Retry-After under the harness's control) and its own API, which
accepts only a token that endpoint issued, has not revoked, and that has not
expired.

- **authorizer**: %s over a client-credentials %s written as a user would
  (%s: POST with ctx, %s, typed errors with status, RFC 6749 fields and
  Retry-After), default options: refresh ahead at min(5 min, lifetime/2),
  backoff 1-30 s with full jitter.
- **x/oauth2**: %s (ReuseTokenSource over the endpoint) in %s. Its early
  expiry is %s (token.go: "defaultExpiryDelta determines how earlier a token
  should be considered expired", used when the delta is zero), set through
  %s (oauth2.go) so the row can show it. It has no API-key feature:
  X-Api-Key comes from a small header RoundTripper of the harness's (%s),
  under %s.
- **cloud.google.com/go/auth**: a client-credentials %s (%s) in
  %s: %s defaults to 3 min 45 s (auth.go %s = 225 s), and a token in that
  window is "stale": served while one goroutine refreshes it in the
  background (auth.go %s); a failed background refresh is not retried until
  the token has expired, when the next caller fetches it holding the cache's
  mutex (%s). By default in %s with explicit %s and telemetry off, X-Api-Key
  through %s; in scenario 1 also through %s on a plain client, which its
  docs offer for adding auth to an existing client.

Tokens live seconds here so that expiries happen within the run. Every
library's early-expiry window is its own default capped at half the token's
lifetime, the same rule for all three (the one this SDK applies to its own
refresh ahead): x/oauth2 keeps its 10 s for tokens of 20 s and more; cloud's
225 s would make a %s token stale from the start. Each scenario's "setting"
row shows the value used. Where the choice decides a figure (scenario 3a)
the peers also run with a 1 s early expiry, and scenario 6 runs them with a
%s as well: the rows marked "peers' variant".

## How each figure is measured

1. %s of %s with a cached token (%s lifetime) over a no-op inner transport,
   from one goroutine and with %s (the shapes of %s and %s), %d round(s)
   of %s each, interleaved across the libraries; the median round is shown.
`, "`access_token`, `token_type`, `expires_in`",
		"`base.NewTransport`", "`base.Authorizer`", "`sdkauthz.go`", "`Expired` = `base.TokenExpired`",
		"`clientcredentials.Config.TokenSource`", "`oauth2.Transport`", "`defaultExpiryDelta` = 10 s",
		"`ReuseTokenSourceWithExpiry`", "`headerRT` in `rt.go`", "`oauth2.Transport`",
		"`auth.TokenProvider`", "`gcptp.go`", "`auth.NewCachedTokenProvider`",
		"`CachedTokenProviderOptions.ExpireEarly`", "`defaultExpiryDelta`", "`tokenAsync`", "`tokenBlocking`",
		"`httptransport.NewClient`", "`Credentials`", "`Options.Headers`",
		"`httptransport.AddAuthorizationMiddleware`",
		d(outageLife(p)), "`http.Client.CheckRedirect`",
		"`testing.Benchmark`", "`RoundTrip`", "1 h", "`RunParallel`",
		"`base.BenchmarkRoundTrip`", "`BenchmarkRoundTripParallel`", max(p.benchCount, 1), d(p.benchtime))
	w(`2. %d goroutines, one request per %s each; the endpoint takes %s; tokens
   live %s. The load starts when the first token has arrived and lasts one
   token lifetime plus 250 ms. A request's *added wait* runs from the caller's
   %s to the moment the library hands the request to the inner transport (a
   probe in the request's context, stamped by the innermost RoundTripper): the
   time token handling held it, without the API's own latency. The same load
   through a plain %s with no token handling gives the floor shown in the
   measure's name: waits at or below it are the scheduler and the garbage
   collector on this machine, not the library; the garbage collector is
   paused during the load (its assists otherwise add milliseconds at random
   to every client alike). The scenario runs %d time(s), each library and
   the plain client one after another, and every run's figure is shown:
   **differences under 1 ms between libraries are noise** (slowest waits near
   the floor change order from run to run). The floor is measured at another
   moment than each library: on a shared machine a burst of load from
   elsewhere during one library's turn shows as held requests in that
   library's cell of that run only; compare the runs. Token requests are counted by a
   RoundTripper under each library's token client (so refused connections
   count too); requests starting within the endpoint's latency + 100 ms of
   each other belong to one refresh. This SDK may begin its second refresh
   inside the window: that is a refresh of the next token, not a duplicate.
`, p.refreshWorkers, d(p.refreshInterval), d(p.refreshLatency), d(p.refreshLifetime),
		"`Do`", "`http.Client`", max(p.refreshRuns, 1))
	w(`3. The endpoint takes %s for every answer (503s included); the outage
   lasts %s, 503 for the first half, connection refused for the second.
   %d goroutines send one request per %s each.
   a: a %s token is cached; the outage starts %s after it was issued and
   ends 2 s before it expires, so every library's refresh point (at most
   half the lifetime before expiry) falls inside it. The load runs past the
   expiry until the library's first success after it (or %s). "While the
   token was valid" counts requests started up to 100 ms before its expiry;
   "once the endpoint was back" counts requests started from the outage's
   end on (the token's expiry falls in this stretch): a request held
   ≥ 100 ms there waited for a token request to the slow endpoint.
   b: the endpoint fails from the first request; the load runs through the
   outage and until the library's first success after it (or %s).
   "Failing requests" is the time a failed request took to fail. This SDK's
   first success can come up to one backoff step after the endpoint is back:
   with the default 1-30 s full-jitter backoff the step after the n-th
   consecutive failure is 1 s to min(30 s, 2^(n-1) s). After a %s outage its
   next token request comes a median %s and in 99 %% of outages at most %s
   after the end (simulated from that formula, %s), never more than %s:
   the price of bounding the load on a failing endpoint.
   The scenario runs %d time(s), because backoff with full jitter decides
   when the next token request goes out: the rows marked "each of N runs"
   show every run, those marked "first run" the first.
`, d(p.outageLatency), d(p.outage), p.outageWorkers, d(p.outageInterval),
		d(outageLife(p)), d(p.outageLead), d(p.recoveryCap), d(p.recoveryCap),
		d(p.outage), d(p50.Round(100*time.Millisecond)), d(p99.Round(100*time.Millisecond)), "`backoffsim.go`", d(maxBackoff),
		max(p.outageRuns, 1))
	w(`4. No token; the endpoint takes %s. The first caller's context is cancelled
   after %s; 50 ms after it started, %d callers with a 5 s timeout each need
   a token too.
5. A token is cached, then the API revokes it; %d requests start at once (the
   endpoint takes 50 ms). A request "finally succeeded" when its caller got a 200.
6. 127.0.0.1 answers 302 to %s; an https server (whose certificate the client
   trusts) answers 302 to a plain-http server. The receiving servers record
   whether Authorization or X-Api-Key arrived. The credentials are added below
   %s, by each library's RoundTripper, so they are set again on every
   request of a redirect chain: %s's own rule (drop Authorization on a
   redirect to another host) applies only to headers the caller set. x/oauth2
   has no API-key feature: its X-Api-Key leak is the harness's header
   RoundTripper plus net/http, as it would be for any user who adds a header
   that way. The peers' way to stop it is the standard library's
   %s (shown with one that refuses another host or scheme).
7. No token; the endpoint answers 429 with Retry-After: %d for %s from the
   first token request, then issues tokens. Load: 10 goroutines, one request
   per 50 ms each. Times are the endpoint's arrival times. This SDK's side
   honours Retry-After through the typed error the Authorizer returns
   (%s, read by the Transport's backoff). Neither peer reads it: x/oauth2's
   %s keeps the response (%s) but nothing in it waits; cloud's docs
   leave retries to the %s, which the harness's provider does not do. A user of either would have to write a token source
   / provider wrapper that reads Retry-After from that response and returns
   the last error without calling the endpoint until then, with its own
   clock and lock.
`, d(p.cancelLatency), d(p.cancelAfter), p.cancelOthers, p.stormRequests,
		"`http://localhost:<port>`", "`http.Client`", "`http.Client`", "`http.Client.CheckRedirect`",
		int(p.retryAfter.Seconds()), d(p.retryAfter),
		"`authorizer.AuthorizationError.RetryAfter`", "`*oauth2.RetrieveError`", "`Response.Header`", "`TokenProvider`")
	return b.String()
}
