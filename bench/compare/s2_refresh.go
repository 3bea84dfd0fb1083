package main

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
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
}

// refreshFloor is the same load sent by a plain client with no token
// handling: its slowest "added wait" is what the scheduler and the garbage
// collector alone cost on this machine.
type refreshFloor struct{ maxAdded time.Duration }

// runRefresh sends requests from p.refreshWorkers goroutines across a
// token's expiry while the endpoint takes p.refreshLatency per token. The
// load starts right after the first token arrives and lasts one token
// lifetime plus 250 ms, so it crosses each library's refresh point (and
// the token's actual expiry) once.
func runRefresh(p params) (map[string]refreshResult, refreshFloor, error) {
	res, err := eachLib(false, func(name string) (refreshResult, error) { return refreshOne(p, name) })
	if err != nil {
		return nil, refreshFloor{}, err
	}
	floor, err := refreshOne(p, "")
	return res, refreshFloor{maxAdded: floor.maxAdded}, err
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
	held, near := 0, time.Duration(-1)
	for _, s := range ss {
		if s.added >= 100*time.Millisecond {
			held++
		}
		if len(during) > 0 && !s.start.Before(during[0].at) && s.start.Before(during[0].at.Add(time.Second)) {
			near = max(near, s.added)
		}
	}
	return refreshResult{
		held:           held,
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

func refreshRows(p params, res map[string]refreshResult, floor refreshFloor) []row {
	sc := fmt.Sprintf("2 refresh under load (%d goroutines, %s token endpoint, %s tokens)",
		p.refreshWorkers, fmtDur(p.refreshLatency), fmtDur(p.refreshLifetime))
	return []row{
		{sc, fmt.Sprintf("slowest request's added wait (plain client, same load: %s)", fmtDur(floor.maxAdded)),
			cells(func(n string) string { return fmtDur(res[n].maxAdded) }), "< 1 ms"},
		{sc, "slowest added wait in the 1 s from the refresh's start", cells(func(n string) string { return fmtDur(res[n].maxNearRefresh) }), "< 1 ms"},
		{sc, "p99 added wait", cells(func(n string) string { return fmtDur(res[n].p99Added) }), ""},
		{sc, "requests held ≥ 100 ms for a token", cells(func(n string) string { return fmt.Sprint(res[n].held) }), "0"},
		{sc, "token requests in one refresh (refreshes in the run)", cells(func(n string) string {
			return fmt.Sprintf("%d (%d)", res[n].perRefresh, res[n].refreshes)
		}), "1"},
		{sc, "requests failed / sent", cells(func(n string) string { return fmt.Sprintf("%d / %d", res[n].failed, res[n].requests) }), "0"},
	}
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
