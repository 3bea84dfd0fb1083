package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestQuick runs the -quick scenarios and asserts this SDK's targets from
// issue 5. Each scenario also checks that the harness can see the failure
// it measures, on a peer known to have it (x/oauth2 v0.37.0): a harness
// that could not tell a leak or a wait from none would prove nothing.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("the comparison runs for about a minute")
	}
	p := quickParams
	p.benchtime = 20 * time.Millisecond
	t.Run("1 hot path", func(t *testing.T) {
		res, err := runHotPath(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := res[libSDK].seqAllocs; got > 3 {
			t.Errorf("allocs/op = %d; want ≤ 3 (shallow request copy, header map, and the contract's minimum)", got)
		}
		t.Logf("%+v", res)
	})
	t.Run("2 refresh under load", func(t *testing.T) { checkRefresh(t, p) })
	t.Run("3 outage", func(t *testing.T) { checkOutage(t, p) })
	t.Run("4 cancelled first caller", func(t *testing.T) { checkCancel(t, p) })
	t.Run("5 401 storm", func(t *testing.T) { checkStorm(t, p) })
	t.Run("6 redirect", func(t *testing.T) { checkRedirect(t, p) })
	t.Run("7 Retry-After", func(t *testing.T) { checkRetryAfter(t, p) })
}

func checkRefresh(t *testing.T, p params) {
	res, floor, err := runRefresh(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK]
	t.Logf("authorizer %+v; plain-client floor %s", r, floor.maxAdded)
	if r.perRefresh != 1 || r.refreshes < 1 {
		t.Errorf("most token requests in one refresh = %d over %d refreshes; want 1, and at least one refresh", r.perRefresh, r.refreshes)
	}
	// The target is < 1 ms (the full run reports it). Under -race on 2
	// cores, 1000 goroutines can stall one request for 100+ ms in any
	// library (the plain-client floor shows it), so the smoke test asserts
	// what tells "waited on the refresh" from noise: a request that waited
	// for the token request is held at least the endpoint's latency
	// (500 ms), so none may be held half of it.
	if limit := p.refreshLatency / 2; r.maxAdded >= limit || r.maxNearRefresh >= limit {
		t.Errorf("slowest added wait = %s (near the refresh %s); want < %s: a request waited on the refresh",
			r.maxAdded, r.maxNearRefresh, limit)
	}
	if r.failed != 0 {
		t.Errorf("failed = %d; want 0", r.failed)
	}
	if r.held != 0 {
		t.Logf("held ≥ 100 ms = %d (scheduler noise under -race; the full run reports the figure)", r.held)
	}
	if res[libOAuth2].held == 0 {
		t.Errorf("x/oauth2 held no request across the refresh; the harness cannot see a blocking refresh")
	}
}

func checkOutage(t *testing.T, p params) {
	runs, err := runOutage(p)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[libSDK][0]
	t.Logf("authorizer %+v", r)
	if r.validOK != r.validSent || r.validSent == 0 {
		t.Errorf("requests succeeded while the token was valid = %d / %d; want all", r.validOK, r.validSent)
	}
	if r.afterExpiryFailed != 0 {
		// Not a target of the issue, but a peer does better: reported, not failed.
		t.Logf("requests failed after the token expired (endpoint back 2 s before) = %d; first success %s after expiry",
			r.afterExpiryFailed, r.afterExpiryOK)
	}
	for _, ph := range []struct {
		name     string
		requests int
		backoffs int64
		gap      time.Duration
	}{
		{"valid token", r.aTokenRequests, r.aBackoffs, r.aMinGap},
		{"no token", r.bTokenRequests, r.bBackoffs, r.bMinGap},
	} {
		if int64(ph.requests) > ph.backoffs+1 {
			t.Errorf("%s: %d token requests for %d backoff steps; want at most one per step", ph.name, ph.requests, ph.backoffs)
		}
		if ph.gap >= 0 && ph.gap < 990*time.Millisecond {
			t.Errorf("%s: shortest gap between token requests = %s; want ≥ 1 s (minimum backoff)", ph.name, ph.gap)
		}
	}
	if r.bTokenRequests == 0 {
		t.Errorf("no token request during the outage without a token")
	}
	if o := runs[libOAuth2][0]; o.bTokenRequests <= r.bTokenRequests {
		t.Errorf("x/oauth2 made %d token requests; the harness should see one per request", o.bTokenRequests)
	}
}

func checkCancel(t *testing.T, p params) {
	res, err := runCancel(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK]
	t.Logf("authorizer %+v", r)
	if r.othersFailed != 0 {
		t.Errorf("other callers failed = %d; want 0", r.othersFailed)
	}
	if r.firstErr != "context canceled" || r.firstReturned > p.cancelAfter+300*time.Millisecond {
		t.Errorf("cancelled caller: %s after %s; want context canceled soon after %s", r.firstErr, r.firstReturned, p.cancelAfter)
	}
	if r.tokenRequests != 1 {
		t.Errorf("token requests = %d; want 1 (the cancelled caller's fetch goes on for the others)", r.tokenRequests)
	}
}

func checkStorm(t *testing.T, p params) {
	res, err := runStorm(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK]
	t.Logf("authorizer %+v", r)
	if r.tokenRequests != 1 || r.succeeded != p.stormRequests || !r.followUpOK {
		t.Errorf("token requests = %d, succeeded = %d / %d, follow-up ok = %v; want 1, all, true",
			r.tokenRequests, r.succeeded, p.stormRequests, r.followUpOK)
	}
	if r.api401 == 0 {
		t.Errorf("the API refused nothing: the storm did not happen")
	}
	if res[libOAuth2].succeeded == p.stormRequests {
		t.Errorf("x/oauth2 recovered from the revocation; the harness should see it fail")
	}
}

func checkRedirect(t *testing.T, p params) {
	res, err := runRedirect(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK]
	t.Logf("authorizer %+v", r)
	if !r.originAuth || !r.hostFollowed || !r.downgradeFollowed {
		t.Fatalf("harness: origin got credentials %v, redirects followed %v/%v; want all true", r.originAuth, r.hostFollowed, r.downgradeFollowed)
	}
	if r.hostAuth || r.hostKey || r.downgradeAuth || r.downgradeKey {
		t.Errorf("leaked: localhost Authorization %v X-Api-Key %v; plain http Authorization %v X-Api-Key %v; want none",
			r.hostAuth, r.hostKey, r.downgradeAuth, r.downgradeKey)
	}
	if o := res[libOAuth2]; !o.hostAuth || !o.downgradeAuth {
		t.Errorf("x/oauth2 leaked nothing (%+v); the harness should see its leak", o)
	}
}

func checkRetryAfter(t *testing.T, p params) {
	res, err := runRetryAfter(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK]
	t.Logf("authorizer %+v", r)
	if r.nextAfter < p.retryAfter || r.inWindow != 0 {
		t.Errorf("next token request %s after the 429, %d inside the window; want ≥ %s and 0", r.nextAfter, r.inWindow, p.retryAfter)
	}
	if res[libOAuth2].inWindow == 0 {
		t.Errorf("x/oauth2 waited for Retry-After; the harness should see it retry at once")
	}
}

// TestWriteFiles checks the report's shape: machine line, one column per
// library, a CSV row per table row.
func TestWriteFiles(t *testing.T) {
	rows := redirectRows(map[string]redirectResult{libSDK: {hostFollowed: true, downgradeFollowed: true, originAuth: true}})
	var md, csvOut bytes.Buffer
	writeMarkdown(&md, rows, "test", time.Second)
	if err := writeCSV(&csvOut, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Machine: ", "cores", "| scenario | measure | authorizer | x/oauth2 | cloud.google.com/go/auth |", "nothing leaked"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md.String())
		}
	}
	if got, want := strings.Count(csvOut.String(), "\n"), len(rows)+1; got != want {
		t.Errorf("results.csv has %d lines; want %d", got, want)
	}
}

func TestGroups(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []attempt {
		var as []attempt
		for _, m := range ms {
			as = append(as, attempt{at: t0.Add(time.Duration(m) * time.Millisecond)})
		}
		return as
	}
	for _, tc := range []struct {
		name     string
		as       []attempt
		n, most  int
		minGapMs int
	}{
		{name: "none", as: nil, n: 0, most: 0, minGapMs: -1},
		{name: "one refresh", as: at(0), n: 1, most: 1, minGapMs: -1},
		{name: "two refreshes", as: at(0, 4000), n: 2, most: 1, minGapMs: 4000},
		{name: "herd in the second", as: at(0, 4000, 4001, 4300), n: 2, most: 3, minGapMs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, most := groups(tc.as, 600*time.Millisecond)
			if n != tc.n || most != tc.most {
				t.Errorf("groups = %d, %d; want %d, %d", n, most, tc.n, tc.most)
			}
			want := time.Duration(tc.minGapMs) * time.Millisecond
			if tc.minGapMs < 0 {
				want = -1
			}
			if got := minGap(tc.as); got != want {
				t.Errorf("minGap = %s; want %s", got, want)
			}
		})
	}
}
