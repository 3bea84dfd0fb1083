package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestQuick runs the -quick scenarios and asserts this SDK's targets from
// issue 5. Each scenario also checks that the harness can see the failure
// it measures, on a peer known to have it at the version go.mod pins
// (peerHas): a harness that could not tell a leak or a wait from none would
// prove nothing. Once a peer's version moves (an upstream fix), those
// checks only log.
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
		if got := res[setup{lib: libSDK}].seqAllocs; got > 3 {
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
	res, floors, err := runRefresh(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[libSDK][0]
	t.Logf("authorizer %+v; plain-client floor %s", r, floors[0].maxAdded)
	if r.perRefresh != 1 || r.refreshes < 1 {
		t.Errorf("most token requests in one refresh = %d over %d refreshes; want 1, and at least one refresh", r.perRefresh, r.refreshes)
	}
	// The target is < 1 ms (the full run reports it). Under -race on a
	// loaded 2 cores any client's requests stall for hundreds of ms at
	// random (the plain-client floor shows it), so the waits are logged,
	// and TestRefreshHeldOpen asserts "no request waits on the refresh"
	// without a clock.
	t.Logf("slowest added wait %s (near the refresh %s), held %d; plain client: slowest %s, held %d",
		r.maxAdded, r.maxNearRefresh, r.held, floors[0].maxAdded, floors[0].held)
	if r.failed != 0 {
		// Only a stall of seconds (the 10 s request timeout, a 4 s token)
		// fails a request here; the full run reports the figure.
		t.Logf("failed = %d of %d (target 0)", r.failed, r.requests)
	}
	peerHas(t, pinnedOAuth2, res[libOAuth2][0].held > 0,
		"x/oauth2 holds every request across its refresh (ReuseTokenSource's mutex); held = %d", res[libOAuth2][0].held)
}

func checkOutage(t *testing.T, p params) {
	runs, err := runOutage(p)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[setup{lib: libSDK}][0]
	t.Logf("authorizer %+v", r)
	if r.validOK != r.validSent || r.validSent == 0 {
		t.Errorf("requests succeeded while the token was valid = %d / %d; want all", r.validOK, r.validSent)
	}
	// Not targets of the issue: reported, not failed.
	t.Logf("after the outage: %d failed after expiry, %d held ≥ 100 ms (slowest %s); first success %s after expiry",
		r.afterExpiryFailed, r.aHeldAfter, r.aMaxAddedAfter, r.afterExpiryOK)
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
	o := runs[setup{lib: libOAuth2}][0]
	peerHas(t, pinnedOAuth2, o.bTokenRequests > r.bTokenRequests,
		"x/oauth2 makes a token request per API request when it has no token; it made %d", o.bTokenRequests)
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
	// Cancelled at 200 ms, the fetch ends at 1 s: returning before 750 ms
	// tells "left at its cancellation" from "waited out the fetch" with a
	// margin no scheduler stall reaches.
	if limit := p.cancelLatency * 3 / 4; r.firstErr != "context canceled" || r.firstReturned >= limit {
		t.Errorf("cancelled caller: %s after %s; want context canceled before %s (cancelled at %s, fetch takes %s)",
			r.firstErr, r.firstReturned, limit, p.cancelAfter, p.cancelLatency)
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
	peerHas(t, pinnedOAuth2, res[libOAuth2].succeeded < p.stormRequests,
		"x/oauth2 keeps a revoked token; %d / %d succeeded", res[libOAuth2].succeeded, p.stormRequests)
}

func checkRedirect(t *testing.T, p params) {
	res, err := runRedirect(p)
	if err != nil {
		t.Fatal(err)
	}
	r := res[setup{lib: libSDK}]
	t.Logf("authorizer %+v", r)
	if !r.originAuth || !r.hostFollowed || !r.downgradeFollowed {
		t.Fatalf("harness: origin got credentials %v, redirects followed %v/%v; want all true", r.originAuth, r.hostFollowed, r.downgradeFollowed)
	}
	if r.hostAuth || r.hostKey || r.downgradeAuth || r.downgradeKey {
		t.Errorf("leaked: localhost Authorization %v X-Api-Key %v; plain http Authorization %v X-Api-Key %v; want none",
			r.hostAuth, r.hostKey, r.downgradeAuth, r.downgradeKey)
	}
	o := res[setup{lib: libOAuth2}]
	peerHas(t, pinnedOAuth2, o.hostAuth && o.downgradeAuth,
		"x/oauth2's Transport sets Authorization on every redirected request; %+v", o)
	for _, s := range peers(variantCheckRedirect) {
		if v := res[s]; v.hostFollowed || v.downgradeFollowed || !v.originAuth {
			t.Errorf("%s with CheckRedirect: %+v; want neither redirect followed, first host authorized", s.lib, v)
		}
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
	peerHas(t, pinnedOAuth2, res[libOAuth2].inWindow > 0,
		"x/oauth2 does not read Retry-After; %d token requests inside the window", res[libOAuth2].inWindow)
}

// TestWriteFiles checks the report's shape: machine line, one column per
// library, a CSV row per table row.
func TestWriteFiles(t *testing.T) {
	rows := redirectRows(map[setup]redirectResult{{lib: libSDK}: {hostFollowed: true, downgradeFollowed: true, originAuth: true}})
	var md, csvOut bytes.Buffer
	writeMarkdown(&md, fullParams, rows, "test", time.Second)
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

// TestNotesFollowParams: the notes take their numbers from the parameters,
// so a changed parameter shows in them (issue 19, item 9).
func TestNotesFollowParams(t *testing.T) {
	p := fullParams
	p.cancelOthers, p.outageLatency, p.refreshRuns = 77, 345*time.Millisecond, 9
	n := notes(p)
	for _, want := range []string{"77 callers", "The endpoint takes 345 ms", "runs 9 time(s)"} {
		if !strings.Contains(n, want) {
			t.Errorf("notes lack %q:\n%s", want, n)
		}
	}
	if strings.Contains(notes(fullParams), "77 callers") {
		t.Errorf("notes of the full parameters mention 77 callers")
	}
}

// TestReadmeWithoutResults: the README section is written (every cell
// "-") even when a scenario produced nothing, rather than panicking.
func TestReadmeWithoutResults(t *testing.T) {
	var b bytes.Buffer
	writeReadme(&b, quickParams, &results{}, nil, "test", time.Second)
	for _, want := range []string{"## Why this and not x/oauth2", "| when… | authorizer | x/oauth2 | cloud.google.com/go/auth |",
		"### The full comparison, latest run", "differences under 1 ms are noise"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("README section lacks %q", want)
		}
	}
}

// TestBackoffDelay: the simulated delay after an outage stays within one
// maximum backoff step, and a longer outage waits longer at the median.
func TestBackoffDelay(t *testing.T) {
	short50, _ := backoffDelay(2*time.Second, 0, 20000)
	long50, long99 := backoffDelay(10*time.Second, 200*time.Millisecond, 20000)
	if long99 > maxBackoff || long50 > long99 {
		t.Errorf("10 s outage: median %s, p99 %s; want median ≤ p99 ≤ %s", long50, long99, maxBackoff)
	}
	if short50 >= long50 {
		t.Errorf("median delay after 2 s = %s, after 10 s = %s; want the longer outage to wait longer", short50, long50)
	}
}

// TestRefreshHeldOpen: while the token endpoint holds the refresh's token
// request open, requests with the still-valid token complete (this SDK);
// a library that fetches holding its callers completes none until the
// endpoint answers (x/oauth2 at its pinned version). No wall-clock margin
// decides it: the endpoint answers only when the test lets it, and the
// token outlives the wait by 8 s.
func TestRefreshHeldOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a refresh point 7-8 s away")
	}
	const k = 20
	res, err := eachLib(true, func(name string) (int, error) {
		if name == libGoogle {
			return 0, nil
		}
		return refreshHeldOpen(name, k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res[libSDK]; got != k {
		t.Errorf("authorizer: %d of %d requests completed while the refresh was held open; want all", got, k)
	}
	peerHas(t, pinnedOAuth2, res[libOAuth2] == 0,
		"x/oauth2 completes no request while its refresh is held open; it completed %d of %d", res[libOAuth2], k)
}

// refreshHeldOpen holds library name's refresh open at the token endpoint
// and returns how many of k requests completed meanwhile (waiting up to
// 5 s for them; the token is valid for 8 s more).
func refreshHeldOpen(name string, k int) (int, error) {
	const life = 16 * time.Second // every library's refresh point: 8 s before expiry
	idp, err := newIDP(life)
	if err != nil {
		return 0, err
	}
	defer idp.close()
	api := newAPI(idp)
	defer api.close()
	c, err := newClient(name, env{tokenURL: idp.url(), next: newHTTPTransport(k), lifetime: life})
	if err != nil {
		return 0, err
	}
	defer c.close()
	if s := sendWithin(c, api.url(), 5*time.Second); !s.ok {
		return 0, fmt.Errorf("warm-up request failed")
	}
	gate := make(chan struct{})
	idp.hold.Store(&gate)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(gate)
	// Requests cross the refresh point until its token request arrives.
	for deadline := time.Now().Add(life); len(idp.requests()) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no refresh within the token's lifetime")
		}
		wg.Go(func() { sendWithin(c, api.url(), 30*time.Second) })
	}
	done := make(chan bool, k)
	for range k {
		wg.Go(func() { done <- sendWithin(c, api.url(), 30*time.Second).ok })
	}
	completed, timeout := 0, time.After(5*time.Second)
	for range k {
		select {
		case ok := <-done:
			if ok {
				completed++
			}
		case <-timeout:
			return completed, nil
		}
	}
	return completed, nil
}

// The README section is written between README.md's markers; the rest of
// the file stays as it was, and a file without markers is refused.
func TestWriteReadmeBetweenMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	before, after := "# Title\n\nintro\n\n", "\n## Usage\n\nmore\n"
	if err := os.WriteFile(path, []byte(before+readmeBegin+"old table\n"+readmeEnd+after), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReadmeFile(path, quickParams, &results{}, nil, "test", time.Second); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	if !strings.HasPrefix(s, before+readmeBegin) || !strings.HasSuffix(s, readmeEnd+after) || strings.Contains(s, "old table") {
		t.Fatalf("README not rewritten between the markers:\n%s", s)
	}
	if err := os.WriteFile(path, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReadmeFile(path, quickParams, &results{}, nil, "test", time.Second); err == nil {
		t.Fatal("a README without markers was overwritten")
	}
}
