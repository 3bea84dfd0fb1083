package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// downStore is a SessionStore whose Get fails while down is set, like a
// paused or unreachable Redis.
type downStore struct {
	*MemoryStore
	down atomic.Bool
}

func (s *downStore) Get(ctx context.Context, id string) ([]byte, error) {
	if s.down.Load() {
		return nil, errors.New("redis: i/o timeout")
	}
	return s.MemoryStore.Get(ctx, id)
}

// A session store outage is not a sign-out: a protected request gets 503
// (not a login redirect), the cookie is kept, and once the store is back
// the same cookie is signed in again.
func TestStoreOutageKeepsTheSession(t *testing.T) {
	store := &downStore{MemoryStore: NewMemoryStore(nil)}
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = store })
	c := rg.signIn()
	cookies := sessionCookies(t, rg, c)
	if got := rg.status(cookies...); got != http.StatusOK {
		t.Fatalf("signed in: %d", got)
	}
	store.down.Store(true)
	req := httptest.NewRequest("GET", "/private/x", nil)
	req.Header.Set("Accept", "text/html")
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	rg.login.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("protected page while the store is down: %d; want 503", w.Code)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	for _, sc := range w.Result().Cookies() {
		if sc.Name == rg.login.jar.name && (sc.MaxAge < 0 || sc.Expires.Before(time.Now()) && !sc.Expires.IsZero()) {
			t.Errorf("the session cookie was cleared during a store outage: %v", sc)
		}
	}
	store.down.Store(false)
	if got := rg.status(cookies...); got != http.StatusOK {
		t.Errorf("after the outage, the same cookie: %d; want 200 (still signed in)", got)
	}
}
