package base

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// The lifecycle under randomized concurrency (issue 20): goroutines sending
// requests through Transports whose Authorizer fails, hangs, panics or
// returns odd tokens; a resource server that revokes tokens at random; a
// shared cache that errors, lags and fails to lock; random deadlines,
// cancellations, Close, and clock jumps. Set BASE_CHAOS_SEED to replay a
// seed; each failure message names it.

// chaos is one run's shared state and its record of violations.
type chaos struct {
	t     *testing.T
	seed  uint64
	clock *fakeClock
	seq   atomic.Int64 // orders request starts and refusals

	mu         sync.Mutex
	violations []string
}

func (c *chaos) violate(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.violations) < 20 {
		c.violations = append(c.violations, fmt.Sprintf(format, args...))
	}
}

// chaosAuthorizer issues tokens and misbehaves at random; it checks that
// the Transport never has two token requests in flight and that Refresh
// gets the newest token it issued.
type chaosAuthorizer struct {
	c        *chaos
	name     string
	rnd      *lockedRand
	inflight atomic.Int32
	issued   atomic.Int32
	calls    atomic.Int32
	tr       atomic.Pointer[Transport] // the Transport it serves
}

func (a *chaosAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	return a.issue(ctx, nil)
}

func (a *chaosAuthorizer) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	return a.issue(ctx, tok)
}

func (a *chaosAuthorizer) Expired(tok *oauth2.Token) bool { return TokenExpired(tok, a.c.clock.Now()) }

func (a *chaosAuthorizer) issue(ctx context.Context, old *oauth2.Token) (*oauth2.Token, error) {
	a.calls.Add(1)
	if n := a.inflight.Add(1); n > 1 {
		a.c.violate("seed %d: %s: %d token requests in flight", a.c.seed, a.name, n)
	}
	defer a.inflight.Add(-1)
	// The Transport's current token cannot change while its one token
	// request runs: Refresh must get exactly that one.
	if cur := a.tr.Load().cur.Load(); old != nil && cur != nil && old.AccessToken != cur.tok.AccessToken {
		a.c.violate("seed %d: %s: Refresh got %s, not the newest %s", a.c.seed, a.name, old.AccessToken, cur.tok.AccessToken)
	}
	switch p := a.rnd.IntN(100); {
	case p < 8:
		return nil, &authorizer.AuthorizationError{StatusCode: 503, Message: "chaos: provider down"}
	case p < 11:
		return nil, errors.New("chaos: plain error")
	case p < 13:
		<-ctx.Done() // hangs until the fetch timeout or Close
		return nil, ctx.Err()
	case p < 14:
		panic("chaos: authorizer panicked")
	case p < 16:
		return &oauth2.Token{AccessToken: "odd-type", TokenType: "DPoP", Expiry: a.c.clock.Now().Add(time.Hour)}, nil
	case p < 17:
		return &oauth2.Token{AccessToken: "bad\r\nsyntax", Expiry: a.c.clock.Now().Add(time.Hour)}, nil
	}
	lifetime := time.Duration(1+a.rnd.IntN(120)) * time.Second
	access := fmt.Sprintf("%s-%d", a.name, a.issued.Add(1))
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: a.c.clock.Now().Add(lifetime)}
	if a.rnd.IntN(2) == 0 {
		tok.ExpiresIn = int64(lifetime / time.Second)
	}
	return tok, nil
}

// lockedRand is a rand.Rand safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (r *lockedRand) IntN(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.IntN(n)
}

// chaosCache is a shared cache that fails, lags and locks badly at random.
type chaosCache struct {
	rnd  *lockedRand
	lock chan struct{} // a one-slot lock honouring ctx

	mu   sync.Mutex
	cur  *oauth2.Token
	prev *oauth2.Token // what a lagging read returns
}

func (c *chaosCache) Load(context.Context, string) (*oauth2.Token, error) {
	if c.rnd.IntN(20) == 0 {
		return nil, errors.New("chaos: cache load failed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rnd.IntN(10) == 0 {
		return c.prev, nil
	}
	return c.cur, nil
}

func (c *chaosCache) Store(_ context.Context, _ string, tok *oauth2.Token) error {
	if c.rnd.IntN(20) == 0 {
		return errors.New("chaos: cache store failed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prev, c.cur = c.cur, tok
	return nil
}

func (c *chaosCache) Delete(context.Context, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = nil
	return nil
}

func (c *chaosCache) Lock(ctx context.Context, _ string) (func() error, error) {
	if c.rnd.IntN(20) == 0 {
		return nil, errors.New("chaos: lock failed")
	}
	select {
	case c.lock <- struct{}{}:
		return func() error { <-c.lock; return nil }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// probe travels in a request's context to the resource server.
type probe struct {
	id       int64
	start    int64 // chaos.seq when RoundTrip began
	tr       *chaosTransport
	mu       sync.Mutex
	sent     []string // tokens sent for this request, in order
	refusals []string // tokens answered with 401 for this request
}

type probeKey struct{}

// chaosTransport is one Transport with its own Authorizer and its record of
// refusals and Close.
type chaosTransport struct {
	tr       *Transport
	a        *chaosAuthorizer
	closedAt atomic.Int64 // chaos.seq once Close returned, or 0

	mu      sync.Mutex
	refused map[string]int64 // token -> chaos.seq when a RoundTrip that saw its 401 returned
}

// resourceServer revokes tokens at random and checks what it is sent.
type resourceServer struct {
	c   *chaos
	rnd *lockedRand

	mu      sync.Mutex
	revoked map[string]bool
}

func (s *resourceServer) RoundTrip(req *http.Request) (*http.Response, error) {
	p, _ := req.Context().Value(probeKey{}).(*probe)
	if p == nil {
		s.c.violate("seed %d: a request reached the server without its context", s.c.seed)
		return nil, errors.New("no probe")
	}
	if at := p.tr.closedAt.Load(); at != 0 && p.start > at {
		s.c.violate("seed %d: request %d reached the server after Close", s.c.seed, p.id)
	}
	auth := req.Header.Values("Authorization")
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
		s.c.violate("seed %d: request %d sent Authorization %q", s.c.seed, p.id, auth)
		return nil, errors.New("bad header")
	}
	tok := strings.TrimPrefix(auth[0], "Bearer ")
	p.mu.Lock()
	for _, t := range p.sent {
		if t == tok {
			s.c.violate("seed %d: request %d replayed with the token it was refused with", s.c.seed, p.id)
		}
	}
	p.sent = append(p.sent, tok)
	p.mu.Unlock()
	p.tr.mu.Lock()
	at, refused := p.tr.refused[tok]
	p.tr.mu.Unlock()
	if refused && p.start > at {
		s.c.violate("seed %d: request %d sent %s, refused before it started", s.c.seed, p.id, tok)
	}
	s.mu.Lock()
	if s.rnd.IntN(30) == 0 {
		s.revoked[tok] = true
	}
	status := http.StatusOK
	if s.revoked[tok] {
		status = http.StatusUnauthorized
	}
	s.mu.Unlock()
	if status == http.StatusUnauthorized {
		p.mu.Lock()
		p.refusals = append(p.refusals, tok)
		p.mu.Unlock()
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("x")), Request: req}, nil
}

func chaosSeed(t *testing.T) uint64 {
	if s := os.Getenv("BASE_CHAOS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BASE_CHAOS_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

func TestLifecycleUnderRandomizedConcurrency(t *testing.T) {
	seed := chaosSeed(t)
	t.Logf("seed %d (replay with BASE_CHAOS_SEED=%d)", seed, seed)
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared cache %v", shared), func(t *testing.T) {
			runChaos(t, seed, shared)
		})
	}
}

func runChaos(t *testing.T, seed uint64, shared bool) {
	c := &chaos{t: t, seed: seed, clock: newClock()}
	rnd := func(stream uint64) *lockedRand { return &lockedRand{r: rand.New(rand.NewPCG(seed, stream))} }
	server := &resourceServer{c: c, rnd: rnd(1), revoked: map[string]bool{}}
	cache := &chaosCache{rnd: rnd(2), lock: make(chan struct{}, 1)}
	ntr := 1
	if shared {
		ntr = 4
	}
	var trs []*chaosTransport
	for i := range ntr {
		a := &chaosAuthorizer{c: c, name: fmt.Sprintf("t%d", i), rnd: rnd(uint64(10 + i))}
		opts := []Option{WithBase(server), withClock(c.clock.Now), WithFetchTimeout(5 * time.Millisecond),
			WithBackoff(time.Second, 30*time.Second), withCloseWait(time.Second),
			WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
		if shared {
			opts = append(opts, WithCache(cache, "k"))
		}
		tr, err := New(a, opts...)
		if err != nil {
			t.Fatal(err)
		}
		a.tr.Store(tr)
		trs = append(trs, &chaosTransport{tr: tr, a: a, refused: map[string]int64{}})
	}
	var wg sync.WaitGroup
	var ids atomic.Int64
	const workers, perWorker = 40, 150
	for w := range workers {
		r := rnd(uint64(100 + w))
		wg.Go(func() {
			for range perWorker {
				ct := trs[r.IntN(len(trs))]
				chaosRequest(c, ct, r, ids.Add(1))
				if r.IntN(10) == 0 {
					c.clock.Advance(time.Duration(r.IntN(3000)) * time.Millisecond)
				}
				if r.IntN(400) == 0 {
					c.clock.Advance(5 * time.Minute)
				}
			}
		})
	}
	closer := rnd(3)
	wg.Go(func() { // closes one Transport midway
		for range 50 + closer.IntN(200) {
			time.Sleep(100 * time.Microsecond)
		}
		ct := trs[closer.IntN(len(trs))]
		ct.tr.Close()
		ct.closedAt.Store(c.seq.Add(1))
	})
	wg.Wait()
	for _, ct := range trs {
		ct.tr.Close()
	}
	goleak.VerifyNone(t)
	for _, v := range c.violations {
		t.Error(v)
	}
	var calls int32
	for _, ct := range trs {
		calls += ct.a.calls.Load()
	}
	t.Logf("seed %d: %d requests, %d token requests", seed, ids.Load(), calls)
}

// chaosRequest sends one request with a random deadline and checks what
// came back.
func chaosRequest(c *chaos, ct *chaosTransport, r *lockedRand, id int64) {
	p := &probe{id: id, tr: ct, start: c.seq.Add(1)}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), probeKey{}, p))
	defer cancel()
	switch r.IntN(10) {
	case 0:
		cancel()
	case 1:
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, time.Duration(r.IntN(2000))*time.Microsecond)
		defer c2()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	req.Header.Set("X-Trace", strconv.FormatInt(id, 10))
	if r.IntN(5) == 0 {
		req.Header["authorization"] = []string{"Basic caller"}
	}
	before := req.Header.Clone()
	resp, err := ct.tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	p.mu.Lock()
	refusals := p.refusals
	p.mu.Unlock()
	if len(refusals) > 0 {
		at := c.seq.Add(1)
		ct.mu.Lock()
		for _, tok := range refusals {
			if _, ok := ct.refused[tok]; !ok {
				ct.refused[tok] = at
			}
		}
		ct.mu.Unlock()
	}
	if fmt.Sprint(before) != fmt.Sprint(req.Header) {
		c.violate("seed %d: request %d: the caller's header changed", c.seed, id)
	}
	if err != nil && !isTyped(err) {
		c.violate("seed %d: request %d: untyped error %T: %v", c.seed, id, err, err)
	}
	if err == nil && resp == nil {
		c.violate("seed %d: request %d: no response and no error", c.seed, id)
	}
}

// isTyped reports whether err is one of the SDK's typed errors.
func isTyped(err error) bool {
	var ae *authorizer.AuthorizationError
	var ice *authorizer.InvalidClientError
	var icr *authorizer.InvalidCredentialsError
	var cfg *authorizer.InvalidConfigError
	return errors.As(err, &ae) || errors.As(err, &ice) || errors.As(err, &icr) || errors.As(err, &cfg)
}
