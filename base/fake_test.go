package base

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeAuthorizer issues numbered tokens. Each call may be held on a gate
// channel and made to fail, so tests control when and how token requests end.
type fakeAuthorizer struct {
	clock     *fakeClock
	lifetime  time.Duration
	authorize atomic.Int32  // Authorize calls
	refresh   atomic.Int32  // Refresh calls
	issued    atomic.Int32  // tokens issued
	started   chan struct{} // receives one value per call, if non-nil

	mu         sync.Mutex
	gate       chan struct{}       // calls block until it is closed, if non-nil
	err        error               // returned instead of a token, if non-nil
	refreshErr error               // returned by Refresh only, if non-nil
	shape      func(*oauth2.Token) // edits each token before it is issued, if non-nil
	onExpired  func(*oauth2.Token) // called at the start of each Expired, if non-nil
	refreshed  []string            // the access token each Refresh was given
	panicValue any                 // calls panic with it, if non-nil
}

func newFake(clock *fakeClock) *fakeAuthorizer {
	return &fakeAuthorizer{clock: clock, lifetime: time.Hour}
}

func (f *fakeAuthorizer) hold() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = make(chan struct{})
	return f.gate
}

func (f *fakeAuthorizer) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeAuthorizer) issue(ctx context.Context, refresh bool) (*oauth2.Token, error) {
	if f.started != nil {
		f.started <- struct{}{}
	}
	f.mu.Lock()
	gate, err, rerr, shape, pv := f.gate, f.err, f.refreshErr, f.shape, f.panicValue
	f.mu.Unlock()
	if pv != nil {
		panic(pv)
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if refresh && rerr != nil {
		return nil, rerr
	}
	if err != nil {
		return nil, err
	}
	n := f.issued.Add(1)
	tok := &oauth2.Token{
		AccessToken: fmt.Sprintf("token-%d", n), TokenType: "Bearer",
		Expiry: f.clock.Now().Add(f.lifetime), ExpiresIn: int64(f.lifetime / time.Second),
	}
	if shape != nil {
		shape(tok)
	}
	return tok, nil
}

// set runs fn under f.mu, to change the fake's behaviour safely.
func (f *fakeAuthorizer) set(fn func(f *fakeAuthorizer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// refreshedWith returns the access tokens Refresh was given, in order.
func (f *fakeAuthorizer) refreshedWith() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refreshed...)
}

func (f *fakeAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	f.authorize.Add(1)
	return f.issue(ctx, false)
}

func (f *fakeAuthorizer) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	f.refresh.Add(1)
	f.mu.Lock()
	f.refreshed = append(f.refreshed, tok.AccessToken)
	f.mu.Unlock()
	return f.issue(ctx, true)
}

func (f *fakeAuthorizer) Expired(tok *oauth2.Token) bool {
	f.mu.Lock()
	hook := f.onExpired
	f.mu.Unlock()
	if hook != nil {
		hook(tok)
	}
	return TokenExpired(tok, f.clock.Now())
}

func (f *fakeAuthorizer) calls() int { return int(f.authorize.Load() + f.refresh.Load()) }

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// recorder is an inner RoundTripper that records what it was sent and
// answers with status (200 unless set per token).
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	reject   map[string]bool // Authorization values answered with 401
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body string
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		body = string(b)
	}
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.bodies = append(r.bodies, body)
	status := http.StatusOK
	if r.reject[req.Header.Get("Authorization")] {
		status = http.StatusUnauthorized
	}
	r.mu.Unlock()
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("ok")), Request: req, Header: http.Header{}}, nil
}

func (r *recorder) setReject(auth string, v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reject == nil {
		r.reject = map[string]bool{}
	}
	r.reject[auth] = v
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// newTestTransport returns a Transport over rec with the fake clock, closed
// when the test ends.
func newTestTransport(t *testing.T, a Authorizer, clock *fakeClock, rec http.RoundTripper, opts ...Option) *Transport {
	t.Helper()
	opts = append([]Option{WithBase(rec), withClock(clock.Now)}, opts...)
	tr := NewTransport(a, opts...)
	t.Cleanup(func() { tr.Close() })
	return tr
}

func get(t *testing.T, tr http.RoundTripper, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	resp.Body.Close()
	return resp
}
