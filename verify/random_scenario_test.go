package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"go.uber.org/goleak"
)

// A seeded, randomized, concurrent scenario: rounds of many goroutines
// verifying a random mix of tokens against a JWKS server that is randomly
// slow, failing, answering garbage or rotating keys, on a clock the test
// moves only between rounds. Because the clock stands still within a round
// and fetches are at least WithMinRefreshInterval apart, a round sees at
// most one fetch, so the keys held during a round are those held at its
// start or those held at its end; every invariant is stated in those terms
// and needs no wall-clock margin. Set VERIFY_RANDOM_SEED to replay a seed,
// VERIFY_RANDOM_SEEDS to run more seeds.

const (
	rsMinRefresh = 10 * time.Second
	rsMinAge     = 20 * time.Second
	rsMaxAge     = 60 * time.Second
	rsLeeway     = 30 * time.Second
	rsKeys       = 6
)

var (
	rsKeyOnce sync.Once
	rsPriv    [rsKeys]*ecdsa.PrivateKey
	rsForger  *ecdsa.PrivateKey
)

func rsFixtures() {
	rsKeyOnce.Do(func() {
		for i := range rsPriv {
			rsPriv[i], _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		rsForger, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
}

func rsKid(i int) string { return "k" + strconv.Itoa(i) }

// rsServer is the key server of the scenario.
type rsServer struct {
	mu        sync.Mutex
	published [rsKeys]bool
	mode      string        // "ok", "slow", "fail", "garbage"
	gate      chan struct{} // slow answers wait for it to close
	maxAge    int
	rng       *mrand.Rand // guarded by mu
}

func (s *rsServer) doc() []byte {
	var keys []map[string]any
	for i, p := range s.published {
		if p {
			keys = append(keys, jwkOf(rsKid(i), rsPriv[i]))
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func (s *rsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/.well-known/openid-configuration" && s.rng2() {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer": %q, "jwks_uri": %q}`, "http://"+r.Host, "http://"+r.Host+"/jwks")
		return
	}
	s.mu.Lock()
	mode, gate, doc, age := s.mode, s.gate, s.doc(), s.maxAge
	garbage := s.rng.IntN(4)
	s.mu.Unlock()
	switch mode {
	case "slow":
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	case "fail":
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	case "garbage":
		w.Header().Set("Content-Type", "application/json")
		switch garbage {
		case 0:
			w.Write([]byte(`{"keys": [`))
		case 1:
			w.Write([]byte(`{"keys": []}`))
		case 2:
			w.Write([]byte("\x00\xff<html>not json"))
		default:
			w.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k0","x":"AAAA","y":"AAAA"}]}`))
		}
		return
	}
	if age > 0 {
		w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(age))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

// rng2 says whether a discovery request is answered well: always when
// the server is healthy, else 1 in 2 (the other goes through the mode).
func (s *rsServer) rng2() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode == "ok" || s.rng.IntN(2) == 0
}

// rsToken is a token with what the test knows about it.
type rsToken struct {
	raw     string
	kind    string // valid, expired, edge, unknownkid, forged, tampered, nokid
	key     int    // signing key index, -1 for the forger
	exp     time.Time
	sub     string
	mustNot bool // never to be accepted, whatever the keys
}

// rsWorld is one scenario run.
type rsWorld struct {
	t     *testing.T
	seed  uint64
	rng   *mrand.Rand // used only by the driving goroutine
	clock *clock
	srv   *rsServer
	hs    *httptest.Server
	tr    *http.Transport
	src   *remoteSource
	v     *Verifier

	loads     atomic.Int64
	inLoad    atomic.Int64
	maxInLoad atomic.Int64
	loadMu    sync.Mutex
	loadAt    []time.Time // clock time of each fetch start

	pool   []*rsToken
	nextID atomic.Int64
}

func (w *rsWorld) failf(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf("seed %d: "+format, append([]any{w.seed}, args...)...)
}

func newRSWorld(t *testing.T, seed uint64, discover bool) *rsWorld {
	rsFixtures()
	w := &rsWorld{t: t, seed: seed, rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), clock: newClock()}
	w.srv = &rsServer{mode: "ok", gate: make(chan struct{}), rng: mrand.New(mrand.NewPCG(seed+1, seed))}
	w.srv.published[0], w.srv.published[1] = true, true
	w.hs = httptest.NewServer(w.srv)
	w.tr = &http.Transport{}
	ctor := JWKS
	if discover {
		ctor = Discover
	}
	ks := ctor(w.hs.URL, WithClock(w.clock.Now), WithHTTPClient(&http.Client{Transport: w.tr}),
		WithMinRefreshInterval(rsMinRefresh), WithKeysAge(rsMinAge, rsMaxAge),
		WithFetchTimeout(time.Hour)) // a hung answer ends only when the round releases it
	w.src = ks.(*remoteSource)
	inner := w.src.load
	w.src.load = func(ctx context.Context) (*keySet, time.Duration, error) {
		w.loads.Add(1)
		n := w.inLoad.Add(1)
		for m := w.maxInLoad.Load(); n > m && !w.maxInLoad.CompareAndSwap(m, n); m = w.maxInLoad.Load() {
		}
		w.loadMu.Lock()
		w.loadAt = append(w.loadAt, w.clock.Now())
		w.loadMu.Unlock()
		defer w.inLoad.Add(-1)
		return inner(ctx)
	}
	var err error
	w.v, err = New(ks, Expect{Issuer: testIssuer, Audience: []string{testAudience}},
		WithClock(w.clock.Now), WithExpiryLeeway(rsLeeway), WithCacheSize(64))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// held returns the kids of the keys the source holds.
func (w *rsWorld) held() map[string]bool {
	m := map[string]bool{}
	if s := w.src.set.Load(); s != nil {
		for _, k := range s.keys {
			m[k.kid] = true
		}
	}
	return m
}

// mint makes a random token valid or not at now.
func (w *rsWorld) mint(now time.Time) *rsToken {
	id := w.nextID.Add(1)
	tk := &rsToken{sub: fmt.Sprintf("sub-%d", id), key: w.rng.IntN(rsKeys)}
	kid := rsKid(tk.key)
	signer := rsPriv[tk.key]
	tk.exp = now.Add(time.Duration(30+w.rng.IntN(300)) * time.Second)
	switch r := w.rng.IntN(100); {
	case r < 45:
		tk.kind = "valid"
	case r < 55:
		tk.kind = "expired"
		tk.exp = now.Add(-rsLeeway - time.Duration(w.rng.IntN(100))*time.Second)
	case r < 60:
		tk.kind = "edge" // accepted until exactly exp+leeway
		tk.exp = now.Add(-rsLeeway + time.Duration(w.rng.IntN(3))*time.Second)
	case r < 72:
		tk.kind, tk.mustNot = "unknownkid", true
		kid = fmt.Sprintf("rnd-%d", w.rng.Uint64())
	case r < 84:
		tk.kind, tk.mustNot, signer, tk.key = "forged", true, rsForger, -1
	case r < 94:
		tk.kind, tk.mustNot = "tampered", true
	default:
		tk.kind, kid = "nokid", ""
	}
	claims := with(goodClaims(), "sub", tk.sub, "exp", tk.exp.Unix(), "iat", now.Unix()-5, "jti", tk.sub)
	tk.raw = token(signer, "ES256", kid, claims)
	if tk.kind == "tampered" {
		parts := strings.Split(tk.raw, ".")
		if w.rng.IntN(2) == 0 {
			parts[1] = seg(with(claims, "sub", tk.sub+"-evil"))
		} else {
			b := []byte(parts[2])
			b[w.rng.IntN(len(b)-1)] ^= 1 // not the last char: its low bits may be unused
			parts[2] = string(b)
		}
		tk.raw = strings.Join(parts, ".")
	}
	return tk
}

// rsCall is one verification and its outcome.
type rsCall struct {
	tk        *rsToken
	cancel    bool // its context is canceled or has a deadline
	err       error
	ok        bool
	ctxErr    error
	returned  chan struct{}
	gotSubErr string
}

func (w *rsWorld) call(c *rsCall, ctx context.Context) {
	defer close(c.returned)
	cl, err := w.v.Verify(ctx, c.tk.raw)
	c.err, c.ctxErr = err, ctx.Err()
	if err == nil {
		c.ok = true
		if cl.Subject != c.tk.sub {
			c.gotSubErr = cl.Subject
		}
	}
}

// round runs one round and checks its invariants. It returns false when the
// source was closed.
func (w *rsWorld) round(n int, closeIt bool) {
	rng := w.rng
	modes := []string{"ok", "ok", "ok", "slow", "slow", "fail", "garbage"}
	mode := modes[rng.IntN(len(modes))]
	if mode == "slow" { // let this round fetch, so that callers wait on the hung server
		w.src.mu.Lock()
		wait := max(w.src.retryAt.Sub(w.clock.Now()), 0)
		w.src.mu.Unlock()
		w.clock.Add(rsMinRefresh + wait)
	}
	now := w.clock.Now()
	// Server state for the round.
	w.srv.mu.Lock()
	w.srv.mode = mode
	w.srv.gate = make(chan struct{})
	w.srv.maxAge = []int{0, 5, 30, 45, 3600}[rng.IntN(5)]
	if rng.IntN(3) == 0 {
		w.srv.published[rng.IntN(rsKeys)] = rng.IntN(2) == 0
	}
	gate := w.srv.gate
	docStart := w.srv.published
	churn := rng.IntN(4) == 0
	w.srv.mu.Unlock()

	heldStart := w.held()
	w.src.mu.Lock()
	refreshAllowed := now.Sub(w.src.lastFetch) >= rsMinRefresh && !now.Before(w.src.retryAt)
	retryOK := !now.Before(w.src.retryAt)
	w.src.mu.Unlock()
	due := w.src.set.Load() != nil && now.UnixNano() >= w.src.staleAt.Load() && retryOK
	loadsStart := w.loads.Load()

	// Calls: new tokens and tokens from earlier rounds (cache hits).
	calls := make([]*rsCall, n)
	for i := range calls {
		tk := (*rsToken)(nil)
		if len(w.pool) > 0 && rng.IntN(3) == 0 {
			tk = w.pool[rng.IntN(len(w.pool))]
		} else {
			tk = w.mint(now)
			if len(w.pool) < 400 {
				w.pool = append(w.pool, tk)
			} else {
				w.pool[rng.IntN(len(w.pool))] = tk
			}
		}
		calls[i] = &rsCall{tk: tk, cancel: rng.IntN(6) == 0, returned: make(chan struct{})}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	closeAt := rng.IntN(n)
	for i, c := range calls {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		how := rng.IntN(3)
		if c.cancel {
			if how == 2 {
				ctx, cancel = context.WithTimeout(context.Background(), time.Duration(rng.IntN(2000))*time.Microsecond)
			} else {
				ctx, cancel = context.WithCancel(context.Background())
			}
		}
		wg.Go(func() {
			defer cancel()
			<-start
			if c.cancel && how == 0 {
				cancel()
			}
			if c.cancel && how == 1 {
				go func() { cancel() }()
			}
			if closeIt && (i == closeAt || i == (closeAt+7)%n) { // two Closes at once
				w.src.Close()
			}
			w.call(c, ctx)
		})
	}
	if churn {
		wg.Go(func() {
			<-start
			w.srv.mu.Lock()
			w.srv.published[w.srv.rng.IntN(rsKeys)] = w.srv.rng.IntN(2) == 0
			w.srv.mu.Unlock()
		})
	}
	close(start)

	// A canceled caller returns without the slow answer.
	watchdog := time.After(20 * time.Second)
	for _, c := range calls {
		if !c.cancel {
			continue
		}
		select {
		case <-c.returned:
		case <-watchdog:
			close(gate)
			w.t.Fatalf("seed %d: a caller whose context ended did not return while the key server hung (mode %s)", w.seed, mode)
		}
	}
	close(gate)
	wg.Wait()
	for w.src.busy() { // a background refresh may still be running
		time.Sleep(time.Millisecond)
	}
	heldEnd := w.held()
	closed := w.src.closedFlg.Load()
	loads := w.loads.Load() - loadsStart

	accepted := 0
	for _, c := range calls {
		tk := c.tk
		if c.ok {
			accepted++
		}
		w.checkErrType(c)
		if c.gotSubErr != "" {
			w.failf("token %s returned the claims of %s", tk.sub, c.gotSubErr)
		}
		if c.ok && tk.mustNot {
			w.failf("a %s token was accepted (mode %s)", tk.kind, mode)
		}
		if c.ok && !now.Before(tk.exp.Add(rsLeeway)) {
			w.failf("a %s token was accepted at exp%+v (leeway %v)", tk.kind, now.Sub(tk.exp), rsLeeway)
		}
		if c.ok && tk.key >= 0 && !heldStart[rsKid(tk.key)] && !heldEnd[rsKid(tk.key)] {
			w.failf("a %s token of key %s was accepted while the key was not held (start %v, end %v)", tk.kind, rsKid(tk.key), heldStart, heldEnd)
		}
		// Liveness: a valid token of a key held throughout the round.
		live := !tk.mustNot && tk.kind != "nokid" && now.Before(tk.exp.Add(rsLeeway)) && !c.cancel && !closed
		if live && !c.ok && heldStart[rsKid(tk.key)] && heldEnd[rsKid(tk.key)] {
			w.failf("a %s token of held key %s was refused: %v (mode %s)", tk.kind, rsKid(tk.key), c.err, mode)
		}
		// Liveness: a key the healthy server publishes all round, when a
		// refresh is allowed, is accepted (one fetch picks it up).
		if live && !c.ok && mode == "ok" && !churn && refreshAllowed && docStart[tk.key] {
			w.failf("a %s token of published key %s was refused after a refresh was allowed: %v", tk.kind, rsKid(tk.key), c.err)
		}
	}
	if m := w.maxInLoad.Load(); m > 1 {
		w.failf("%d key fetches ran at once", m)
	}
	if loads > 1 {
		w.failf("%d key fetches in one round, on a clock that did not move (min interval %v)", loads, rsMinRefresh)
	}
	if due && accepted > 0 && loads == 0 && !closed {
		w.failf("keys were due for a refresh, %d tokens were accepted, yet no fetch started", accepted)
	}
	if closed {
		return
	}
	// Between rounds: move the clock.
	switch r := rng.IntN(10); {
	case r < 4:
	case r < 6:
		w.clock.Add(time.Duration(rng.IntN(10)) * time.Second)
	case r < 8:
		w.clock.Add(rsMinRefresh)
	case r < 9:
		w.clock.Add(rsMinAge + time.Duration(rng.IntN(60))*time.Second)
	default:
		w.clock.Add(rsMaxAge + time.Minute)
	}
}

// checkErrType: only typed errors, and ctx errors only for ended contexts.
func (w *rsWorld) checkErrType(c *rsCall) {
	err := c.err
	if err == nil {
		return
	}
	var ite *authorizer.InvalidTokenError
	var ae *authorizer.AuthorizationError
	switch {
	case errors.As(err, &ite), errors.As(err, &ae):
	case c.ctxErr != nil && errors.Is(err, c.ctxErr):
	default:
		w.failf("untyped error %T: %v (ctx %v)", err, err, c.ctxErr)
	}
	if errors.Is(err, context.Canceled) && c.ctxErr == nil && !w.src.closedFlg.Load() {
		w.failf("context.Canceled from a caller whose context had not ended, source open: %v", err)
	}
	for _, secret := range []string{c.tk.raw, strings.Split(c.tk.raw, ".")[2]} {
		if strings.Contains(err.Error(), secret) {
			w.failf("the error holds the token: %v", err)
		}
	}
}

func (w *rsWorld) finish() {
	w.src.Close()
	// After Close every token that needs keys fails with ErrClosed.
	for range 20 {
		tk := w.mint(w.clock.Now())
		tk.raw += "x" // never cached
		_, err := w.v.Verify(context.Background(), tk.raw)
		if err == nil {
			w.failf("a token was accepted after Close")
		}
	}
	tk := w.mint(w.clock.Now())
	for tk.kind != "valid" {
		tk = w.mint(w.clock.Now())
	}
	if _, err := w.v.Verify(context.Background(), tk.raw); !errors.Is(err, authorizer.ErrClosed) {
		w.failf("after Close: %v; want ErrClosed", err)
	}
	w.hs.Close()
	w.tr.CloseIdleConnections()
}

func rsSeeds(t *testing.T) []uint64 {
	if s := os.Getenv("VERIFY_RANDOM_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return []uint64{n}
	}
	count := 2
	if s := os.Getenv("VERIFY_RANDOM_SEEDS"); s != "" {
		count, _ = strconv.Atoi(s)
	}
	seeds := make([]uint64, count)
	for i := range seeds {
		seeds[i] = uint64(time.Now().UnixNano()) + uint64(i)*7919
	}
	return seeds
}

func TestRandomScenario(t *testing.T) {
	rounds, perRound := 24, 150
	if testing.Short() {
		rounds, perRound = 8, 80
	}
	for i, seed := range rsSeeds(t) {
		discover := i%2 == 1 || seed%3 == 0
		t.Run(fmt.Sprintf("%d/discover=%v", seed, discover), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			w := newRSWorld(t, seed, discover)
			closeRound := -1
			if w.rng.IntN(2) == 0 {
				closeRound = w.rng.IntN(rounds)
			}
			for r := range rounds {
				w.round(perRound, r == closeRound)
				if r == closeRound || t.Failed() {
					break
				}
			}
			w.finish()
			if t.Failed() {
				t.Logf("replay with VERIFY_RANDOM_SEED=%d", seed)
			}
			t.Logf("seed %d: %d fetches", seed, w.loads.Load())
		})
	}
}
