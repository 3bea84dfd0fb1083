package web

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestProbeRefreshOnTwoReplicasKeepsTheUser: with a shared SessionStore and
// rotating refresh tokens, two replicas that see the same expired session
// at once must not sign the user out (oauth2-proxy #1006 across replicas).
// Fails on the old code: two grants, the second refused.
func TestProbeRefreshOnTwoReplicasKeepsTheUser(t *testing.T) {
	store := newHookStore()
	a := newRig(t, func(c *Config, _ *fakeIdP) { store.MemoryStore = NewMemoryStore(c.Now); c.SessionStore = store })
	b, err := New(a.login.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := a.signIn()
	cookies := sessionCookies(t, a, c)
	gate := make(chan struct{})
	a.idp.refreshGate = gate
	a.clock.Add(10 * time.Minute)
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i, l := range []*Login{a.login, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("GET", "/private/x", nil)
			req.Header.Set("Accept", "application/json")
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			w := httptest.NewRecorder()
			l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, req)
			codes[i] = w.Code
		}()
	}
	// One replica's grant is in flight; the other waits for its result
	// (the old code: made a second grant).
	waitGrants(a, 1)
	store.waitRefusedOr(func() bool { return a.idp.refreshGrants.Load() >= 2 })
	close(gate)
	wg.Wait()
	after := a.status(cookies...)
	if codes[0] != 200 || codes[1] != 200 || after != 200 {
		t.Errorf("replica statuses %v, then %d; want 200s (two replicas refreshing one stored session each redeemed the refresh token)", codes, after)
	}
	if got := a.idp.refreshGrants.Load(); got != 1 {
		t.Errorf("%d refresh grants; want 1 (the store's lease lets one replica refresh)", got)
	}
}
