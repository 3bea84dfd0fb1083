package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// cancelResult is scenario 4 for one library.
type cancelResult struct {
	others, othersFailed int
	firstReturned        time.Duration // when the cancelled caller got its answer
	firstErr             string        // what it got: "context canceled", "ok", ...
	slowestOther         time.Duration
	tokenRequests        int
}

// runCancel starts with no token and a token endpoint that takes
// p.cancelLatency. The first caller's context is cancelled p.cancelAfter
// into the fetch; 50 ms after it, p.cancelOthers callers (5 s timeout
// each) need a token too.
func runCancel(p params) (map[string]cancelResult, error) {
	return eachLib(true, func(name string) (cancelResult, error) { return cancelOne(p, name) })
}

func cancelOne(p params, name string) (cancelResult, error) {
	idp, err := newIDP(time.Minute)
	if err != nil {
		return cancelResult{}, err
	}
	defer idp.close()
	idp.latency.Store(int64(p.cancelLatency))
	api := newAPI(idp)
	defer api.close()
	c, err := newClient(name, env{tokenURL: idp.url(), next: stampRT{newHTTPTransport(p.cancelOthers)}, lifetime: time.Minute})
	if err != nil {
		return cancelResult{}, err
	}
	defer c.close()

	r := cancelResult{others: p.cancelOthers}
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(p.cancelAfter, cancel)
		s, err := sendErr(ctx, c, api.url())
		r.firstReturned = s.dur
		r.firstErr = outcome(s, err)
	})
	time.Sleep(50 * time.Millisecond)
	var mu sync.Mutex // guards the other callers' figures in r
	for range p.cancelOthers {
		wg.Go(func() {
			s := sendWithin(c, api.url(), 5*time.Second)
			mu.Lock()
			defer mu.Unlock()
			if !s.ok {
				r.othersFailed++
			}
			r.slowestOther = max(r.slowestOther, s.dur)
		})
	}
	wg.Wait()
	r.tokenRequests = len(c.tok.attempts())
	return r, nil
}

// outcome names how a request ended, for the table.
func outcome(s sample, err error) string {
	switch {
	case s.ok:
		return "ok"
	case errors.Is(err, context.Canceled):
		return "context canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case err != nil:
		return "error"
	default:
		return "non-200 answer"
	}
}

func cancelRows(p params, res map[string]cancelResult) []row {
	sc := fmt.Sprintf("4 slow token endpoint (%s), first caller gives up after %s",
		fmtDur(p.cancelLatency), fmtDur(p.cancelAfter))
	f := func(fn func(cancelResult) string) map[string]string {
		return cells(func(n string) string { return fn(res[n]) })
	}
	return []row{
		{sc, fmt.Sprintf("other callers failed (of %d)", p.cancelOthers), f(func(r cancelResult) string { return fmt.Sprint(r.othersFailed) }), "0"},
		{sc, "cancelled caller returned after", f(func(r cancelResult) string { return fmtDur(r.firstReturned) + " (" + r.firstErr + ")" }), ""},
		{sc, "slowest other caller", f(func(r cancelResult) string { return fmtDur(r.slowestOther) }), ""},
		{sc, "token requests", f(func(r cancelResult) string { return fmt.Sprint(r.tokenRequests) }), ""},
	}
}
