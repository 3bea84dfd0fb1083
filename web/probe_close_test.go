package web

import (
	"net/http"
	"testing"
	"time"
)

// TestProbeCloseDuringRefreshKeepsStoredSession: shutting one replica down
// while it refreshes a session must not end that session in the shared
// store (the other replicas still serve it). The grant ends with the
// Close's cancellation, which is no refusal by the provider.
func TestProbeCloseDuringRefreshKeepsStoredSession(t *testing.T) {
	store := NewMemoryStore(nil)
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = store })
	c := rg.signIn()
	if store.Len() != 1 {
		t.Fatalf("store holds %d sessions; want 1", store.Len())
	}
	gate := make(chan struct{})
	rg.idp.refreshGate = gate
	defer close(gate)
	rg.clock.Add(10 * time.Minute)
	done := make(chan int)
	go func() {
		status, _ := rg.get(noFollow(c), "/private/x")
		done <- status
	}()
	for rg.idp.refreshGrants.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	rg.login.Close()
	status := <-done
	if store.Len() != 1 {
		t.Errorf("after Close during a refresh (status %d) the store holds %d sessions; want the session kept", status, store.Len())
	}
	if status == http.StatusFound {
		t.Errorf("request during Close was sent to login (session ended)")
	}
}
