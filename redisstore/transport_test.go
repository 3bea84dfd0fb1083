package redisstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// countingAuthorizer counts its token requests.
type countingAuthorizer struct{ n atomic.Int64 }

func (a *countingAuthorizer) Authorize(context.Context) (*oauth2.Token, error) {
	n := a.n.Add(1)
	return &oauth2.Token{AccessToken: "tok-" + string(rune('0'+n)), TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour), ExpiresIn: 3600}, nil
}
func (a *countingAuthorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, time.Now())
}
func (a *countingAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

func get(t *testing.T, tr *base.Transport, url string) {
	t.Helper()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	resp.Body.Close()
}

// Through base.Transport: replicas sharing the store make one token
// request; with Redis gone, each makes its own and none fails.
func TestTransportsShareThroughStore(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer api.Close()
	mr, _ := newMini(t)
	addr := mr.Addr()
	a := &countingAuthorizer{}
	replica := func() *base.Transport {
		tr := base.NewTransport(a, base.WithCache(newStoreOn(t, addr), Key(Identity{TokenURL: "u", ClientID: "c"})))
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	for range 3 {
		get(t, replica(), api.URL)
	}
	if n := a.n.Load(); n != 1 {
		t.Errorf("3 replicas made %d token requests; want 1", n)
	}
	mr.Close()
	for range 3 {
		get(t, replica(), api.URL)
	}
	if n := a.n.Load(); n != 4 {
		t.Errorf("with Redis down: %d token requests in all; want 1 + 3", n)
	}
}
