package main

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// refreshResult is scenario 2 for one library.
type refreshResult struct {
	requests, failed int
	maxAdded         time.Duration // slowest request's wait in the authorizing layer
	p99Added         time.Duration
	maxNearRefresh   time.Duration // slowest added wait in the second from the first refresh's start
	tokenRequests    int           // during the load
	refreshes        int           // groups of token requests: one per refresh
	perRefresh       int           // the most token requests in one refresh
	held             int           // requests that waited ≥ 100 ms for a token
	heldMin, heldMax time.Duration // the shortest and longest wait among them; -1 if none
}

// refreshFloor is the same load sent by a plain client with no token
// handling: its slowest "added wait" is what the scheduler and the garbage
// collector alone cost on this machine.
type refreshFloor struct {
	maxAdded time.Duration
	held     int // requests the plain client "held" ≥ 100 ms: scheduler stalls
}

// runRefresh sends requests from p.refreshWorkers goroutines across a
// token's expiry while the endpoint takes p.refreshLatency per token. The
// load starts right after the first token arrives and lasts one token
// lifetime plus 250 ms, so it crosses each library's refresh point (and
// the token's actual expiry) once. It does so p.refreshRuns times, each
// run with the three libraries and the plain client one after another:
// slowest waits near the floor move from run to run.
func runRefresh(p params) (map[string][]refreshResult, []refreshFloor, error) {
	out := map[string][]refreshResult{}
	var floors []refreshFloor
	for range max(p.refreshRuns, 1) {
		res, err := eachLib(false, func(name string) (refreshResult, error) { return refreshOne(p, name) })
		if err != nil {
			return nil, nil, err
		}
		floor, err := refreshOne(p, "")
		if err != nil {
			return nil, nil, err
		}
		for n, r := range res {
			out[n] = append(out[n], r)
		}
		floors = append(floors, refreshFloor{maxAdded: floor.maxAdded, held: floor.held})
	}
	return out, floors, nil
}

func refreshOne(p params, name string) (refreshResult, error) {
	idp, err := newIDP(p.refreshLifetime)
	if err != nil {
		return refreshResult{}, err
	}
	defer idp.close()
	idp.latency.Store(int64(p.refreshLatency))
	api := newAPI(idp)
	defer api.close()
	next := stampRT{newHTTPTransport(p.refreshWorkers)}
	c, err := newClient(name, env{tokenURL: idp.url(), next: next, lifetime: p.refreshLifetime})
	if name == "" { // the floor: no token handling at all
		c, err = &client{rt: next, http: &http.Client{Transport: next}, tok: &countRT{}, close: func() {}}, nil
	}
	if err != nil {
		return refreshResult{}, err
	}
	defer c.close()
	if s := sendWithin(c, api.url(), 5*time.Second); !s.ok && name != "" {
		return refreshResult{}, fmt.Errorf("warm-up request failed")
	}
	// The collector is paused for the load (about 40 000 requests, well
	// under a GiB): its assists otherwise hold an allocating goroutine for
	// milliseconds at random, in every library and in the plain client
	// alike, and would hide the figure measured here.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := time.Now()
	l := load{workers: p.refreshWorkers, interval: p.refreshInterval, timeout: 10 * time.Second,
		deadline: start.Add(p.refreshLifetime + 250*time.Millisecond)}
	ss := l.run(c, api.url())
	_, failed := split(ss)
	during := between(c.tok.attempts(), start, time.Now())
	refreshes, most := groups(during, p.refreshLatency+100*time.Millisecond)
	held, near, heldMin, heldMax := 0, time.Duration(-1), time.Duration(-1), time.Duration(-1)
	for _, s := range ss {
		if s.added >= 100*time.Millisecond {
			held++
			heldMax = max(heldMax, s.added)
			if heldMin < 0 || s.added < heldMin {
				heldMin = s.added
			}
		}
		if len(during) > 0 && !s.start.Before(during[0].at) && s.start.Before(during[0].at.Add(time.Second)) {
			near = max(near, s.added)
		}
	}
	return refreshResult{
		held:           held,
		heldMin:        heldMin,
		heldMax:        heldMax,
		maxNearRefresh: near,
		requests:       len(ss),
		failed:         len(failed),
		maxAdded:       quantile(ss, 1, addedOf),
		p99Added:       quantile(ss, 0.99, addedOf),
		tokenRequests:  len(during),
		refreshes:      refreshes,
		perRefresh:     most,
	}, nil
}

func refreshRows(p params, runs map[string][]refreshResult, floors []refreshFloor) []row {
	sc := fmt.Sprintf("2 refresh under load (%d goroutines, %s token endpoint, %s tokens)",
		p.refreshWorkers, fmtDur(p.refreshLatency), fmtDur(p.refreshLifetime))
	each := func(fn func(refreshResult) string) map[string]string {
		return cells(func(n string) string {
			var vs []string
			for _, r := range runs[n] {
				vs = append(vs, fn(r))
			}
			return strings.Join(vs, " · ")
		})
	}
	var fl, fh []string
	for _, f := range floors {
		fl = append(fl, fmtDur(f.maxAdded))
		fh = append(fh, fmt.Sprint(f.held))
	}
	nRuns := fmt.Sprintf(" (each of %d runs)", len(floors))
	if len(floors) == 1 {
		nRuns = ""
	}
	return []row{
		{sc, "setting", cells(func(n string) string { return setting(n, env{lifetime: p.refreshLifetime}) }), ""},
		{sc, fmt.Sprintf("slowest request's added wait%s (plain client, same load: %s)", nRuns, strings.Join(fl, " · ")),
			each(func(r refreshResult) string { return fmtDur(r.maxAdded) }), "< 1 ms"},
		{sc, "slowest added wait in the 1 s from the refresh's start" + nRuns, each(func(r refreshResult) string { return fmtDur(r.maxNearRefresh) }), "< 1 ms"},
		{sc, "p99 added wait" + nRuns, each(func(r refreshResult) string { return fmtDur(r.p99Added) }), ""},
		{sc, fmt.Sprintf("requests held ≥ 100 ms for a token (their wait)%s (plain client, same load: %s held)", nRuns, strings.Join(fh, " · ")),
			each(heldCell), "0"},
		{sc, "token requests in one refresh (refreshes in the run)" + nRuns, each(func(r refreshResult) string {
			return fmt.Sprintf("%d (%d)", r.perRefresh, r.refreshes)
		}), "1"},
		{sc, "requests failed / sent" + nRuns, each(func(r refreshResult) string { return fmt.Sprintf("%d / %d", r.failed, r.requests) }), "0"},
	}
}

// heldCell is "none held", or how many were held and for how long.
func heldCell(r refreshResult) string {
	if r.held == 0 {
		return "none held"
	}
	return fmt.Sprintf("%d (%s–%s)", r.held, fmtDur(r.heldMin), fmtDur(r.heldMax))
}

// groups splits token requests into refreshes: requests that start within
// window of the previous one belong to the same refresh (they overlap a
// fetch that takes the endpoint's latency). It returns the number of
// refreshes and the most requests in one.
func groups(as []attempt, window time.Duration) (n, most int) {
	size := 0
	for i, a := range as {
		if i == 0 || a.at.Sub(as[i-1].at) > window {
			n++
			size = 0
		}
		size++
		most = max(most, size)
	}
	return n, most
}
