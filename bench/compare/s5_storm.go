package main

import (
	"fmt"
	"sync"
	"time"
)

// stormResult is scenario 5 for one library.
type stormResult struct {
	requests, succeeded int
	api401              int64 // 401 answers the API gave
	tokenRequests       int   // after the revocation
	followUpOK          bool  // a request after the storm succeeds
}

// runStorm revokes the current token at the API; then p.stormRequests
// requests go out at once and each gets a 401 for it. The token endpoint
// takes 50 ms, so the 401s overlap the new token request.
func runStorm(p params) (map[string]stormResult, error) {
	return eachLib(true, func(name string) (stormResult, error) { return stormOne(p, name) })
}

func stormOne(p params, name string) (stormResult, error) {
	idp, err := newIDP(time.Hour)
	if err != nil {
		return stormResult{}, err
	}
	defer idp.close()
	idp.latency.Store(int64(50 * time.Millisecond))
	api := newAPI(idp)
	defer api.close()
	c, err := newClient(name, env{tokenURL: idp.url(), next: stampRT{newHTTPTransport(p.stormRequests)}, lifetime: time.Hour})
	if err != nil {
		return stormResult{}, err
	}
	defer c.close()
	if s := sendWithin(c, api.url(), 5*time.Second); !s.ok {
		return stormResult{}, fmt.Errorf("warm-up request failed")
	}
	idp.revokeAll()
	revoked := time.Now()
	before401 := api.r401.Load()

	r := stormResult{requests: p.stormRequests}
	var mu sync.Mutex // guards r.succeeded
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for range p.stormRequests {
		wg.Go(func() {
			<-gate
			if s := sendWithin(c, api.url(), 10*time.Second); s.ok {
				mu.Lock()
				r.succeeded++
				mu.Unlock()
			}
		})
	}
	close(gate)
	wg.Wait()
	r.api401 = api.r401.Load() - before401
	r.followUpOK = sendWithin(c, api.url(), 5*time.Second).ok
	r.tokenRequests = len(between(c.tok.attempts(), revoked, time.Now()))
	return r, nil
}

func stormRows(p params, res map[string]stormResult) []row {
	sc := fmt.Sprintf("5 401 storm (%d concurrent requests, token revoked)", p.stormRequests)
	f := func(fn func(stormResult) string) map[string]string {
		return cells(func(n string) string { return fn(res[n]) })
	}
	return []row{
		{sc, "token requests", f(func(r stormResult) string { return fmt.Sprint(r.tokenRequests) }), "1"},
		{sc, "requests finally succeeded", f(func(r stormResult) string { return fmt.Sprintf("%d / %d", r.succeeded, r.requests) }), fmt.Sprintf("%d / %d", p.stormRequests, p.stormRequests)},
		{sc, "401 answers seen by the API", f(func(r stormResult) string { return fmt.Sprint(r.api401) }), ""},
		{sc, "next request after the storm succeeds", f(func(r stormResult) string { return yesNo(r.followUpOK) }), "yes"},
	}
}
