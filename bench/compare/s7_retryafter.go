package main

import (
	"fmt"
	"time"
)

// retryResult is scenario 7 for one library.
type retryResult struct {
	nextAfter     time.Duration // from the 429 to the next token request; -1 if none
	inWindow      int           // token requests within Retry-After after the 429
	firstOKAfter  time.Duration // from the 429 to the first successful API request
	tokenRequests int
}

// runRetryAfter starts with no token; the endpoint answers its first token
// request with 429 and Retry-After: p.retryAfter (and any request within
// that window alike), then issues tokens. A light load (10 goroutines,
// 1 request / 50 ms each) runs until 1.5 s after the window.
func runRetryAfter(p params) (map[string]retryResult, error) {
	return eachLib(true, func(name string) (retryResult, error) { return retryOne(p, name) })
}

func retryOne(p params, name string) (retryResult, error) {
	idp, err := newIDP(time.Minute)
	if err != nil {
		return retryResult{}, err
	}
	defer idp.close()
	idp.throttle(p.retryAfter)
	api := newAPI(idp)
	defer api.close()
	c, err := newClient(name, env{tokenURL: idp.url(), next: stampRT{newHTTPTransport(10)}, lifetime: time.Minute})
	if err != nil {
		return retryResult{}, err
	}
	defer c.close()
	l := load{workers: 10, interval: 50 * time.Millisecond, timeout: 10 * time.Second,
		deadline: time.Now().Add(p.retryAfter + 1500*time.Millisecond)}
	ss := l.run(c, api.url())
	arrivals := idp.requests()
	r := retryResult{nextAfter: -1, firstOKAfter: -1, tokenRequests: len(arrivals)}
	if len(arrivals) == 0 {
		return r, fmt.Errorf("no token request was made")
	}
	first := arrivals[0]
	if len(arrivals) > 1 {
		r.nextAfter = arrivals[1].Sub(first)
	}
	for _, a := range arrivals[1:] {
		if a.Before(first.Add(p.retryAfter)) {
			r.inWindow++
		}
	}
	for _, s := range ss {
		if s.ok && (r.firstOKAfter < 0 || s.start.Add(s.dur).Sub(first) < r.firstOKAfter) {
			r.firstOKAfter = s.start.Add(s.dur).Sub(first)
		}
	}
	return r, nil
}

func retryRows(p params, res map[string]retryResult) []row {
	sc := fmt.Sprintf("7 token endpoint 429, Retry-After: %d", int(p.retryAfter/time.Second))
	f := func(fn func(retryResult) string) map[string]string {
		return cells(func(n string) string { return fn(res[n]) })
	}
	return []row{
		{sc, "next token request after the 429", f(func(r retryResult) string { return fmtDur(r.nextAfter) }), "≥ " + fmtDur(p.retryAfter)},
		{sc, "token requests inside the Retry-After window", f(func(r retryResult) string { return fmt.Sprint(r.inWindow) }), "0"},
		{sc, "first successful API request after the 429", f(func(r retryResult) string { return fmtDur(r.firstOKAfter) }), ""},
	}
}
