package verify

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// fakeStore is a DPoPReplayStore in memory (shared by the Verifiers given
// it, like replicas sharing Redis), or one that fails or blocks.
type fakeStore struct {
	mu    sync.Mutex
	seen  map[string]time.Time // key → until
	keys  []string             // every key asked, in order
	calls atomic.Int32
	err   error                // returned by every call when set
	block bool                 // wait for ctx to end, then answer fresh
	ctxs  chan context.Context // receives each call's ctx when set
}

func newFakeStore() *fakeStore { return &fakeStore{seen: map[string]time.Time{}} }

func (s *fakeStore) Record(ctx context.Context, key string, until time.Time) (bool, error) {
	s.calls.Add(1)
	if s.ctxs != nil {
		s.ctxs <- ctx
	}
	if s.block {
		<-ctx.Done()
		return true, nil // too late: the Verifier must not believe it
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
	if s.err != nil {
		return false, s.err
	}
	if _, ok := s.seen[key]; ok {
		return false, nil
	}
	s.seen[key] = until
	return true, nil
}

var errStoreDown = errors.New("fake store: connection refused")

func TestDPoPReplayStoreShared(t *testing.T) {
	c := newClock()
	store := newFakeStore()
	a := newDPoPVerifier(t, c, WithDPoPReplayStore(store))
	b := newDPoPVerifier(t, c, WithDPoPReplayStore(store))
	tok := boundToken(dpKey.Thumbprint())
	proof := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	if _, err := a.VerifyDPoP(context.Background(), tok, proof, "GET", dpTarget); err != nil {
		t.Fatalf("replica a: %v", err)
	}
	_, err := b.VerifyDPoP(context.Background(), tok, proof, "GET", dpTarget)
	var ite *authorizer.InvalidTokenError
	if !errors.As(err, &ite) || ite.Reason != authorizer.TokenDPoPReplay || !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("replica b, the same proof: err = %v; want a TokenDPoPReplay", err)
	}
	if n := store.calls.Load(); n != 2 {
		t.Fatalf("store calls = %d; want 2", n)
	}
	// a replay to the replica that accepted it stops at its own cache
	if _, err := a.VerifyDPoP(context.Background(), tok, proof, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("replica a again: err = %v; want ErrTokenDPoPReplay", err)
	}
	if n := store.calls.Load(); n != 2 {
		t.Fatalf("store calls = %d; want 2 (a local replay is refused before the store)", n)
	}
	// through the middleware, a replay to another replica is a 401 proof error
	h := Middleware(b, InsecureTrustHostHeader())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler reached by a replayed proof")
	}))
	target := "http://api.example/v1/things"
	p := mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())
	if _, err := a.VerifyDPoP(context.Background(), tok, p, "GET", mustURL(target)); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, dpopRequest("GET", target, "DPoP", tok, p))
	if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || !strings.Contains(got, `error="invalid_dpop_proof"`) {
		t.Fatalf("middleware on replica b: %d %q; want 401 invalid_dpop_proof", w.Code, got)
	}
	// a new proof of the same key is fresh on both
	proof2 := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	if _, err := b.VerifyDPoP(context.Background(), tok, proof2, "GET", dpTarget); err != nil {
		t.Fatalf("replica b, a new proof: %v", err)
	}
}

func TestDPoPReplayStoreKeyAndUntil(t *testing.T) {
	c := newClock()
	store := newFakeStore()
	v := newDPoPVerifier(t, c, WithDPoPReplayStore(store), WithDPoPProofAge(time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	iat := c.Now().Add(-10 * time.Second)
	proof := mustProof(t, dpKey, "GET", dpTarget, tok, "", iat)
	if _, err := v.VerifyDPoP(context.Background(), tok, proof, "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
	if len(store.keys) != 1 {
		t.Fatalf("keys = %q; want one", store.keys)
	}
	key := store.keys[0]
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("key = %q; want 64 hex digits", key)
	}
	p, err := v.parseProof(proof)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"jti": p.jti, "jkt": p.jkt, "token": tok, "proof": proof, "ath": p.ath} {
		if strings.Contains(key, secret) {
			t.Errorf("key %q holds the %s", key, name)
		}
	}
	if want := dpopStoreKey(p.jkt, p.jti); key != want {
		t.Errorf("key = %q; want %q", key, want)
	}
	if other := dpopStoreKey(p.jkt, p.jti+"x"); other == key || len(other) != len(key) {
		t.Errorf("another jti gives %q", other)
	}
	want := time.Unix(iat.Unix(), 0).Add(time.Minute + time.Second)
	if got := store.seen[key]; !got.Equal(want) {
		t.Errorf("until = %v; want %v (iat + proof age + 1s)", got, want)
	}
}

func TestDPoPReplayStoreFailsClosed(t *testing.T) {
	c := newClock()
	store := newFakeStore()
	store.err = errStoreDown
	v := newDPoPVerifier(t, c, WithDPoPReplayStore(store))
	tok := boundToken(dpKey.Thumbprint())
	_, err := v.VerifyDPoP(context.Background(), tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget)
	assertStoreUnavailable(t, err, errStoreDown)
	if strings.Contains(err.Error(), tok) {
		t.Errorf("error %q holds the token", err)
	}

	h := Middleware(v, InsecureTrustHostHeader())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler called while the store fails")
	}))
	target := "http://api.example/v1/things"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, dpopRequest("GET", target, "DPoP", tok, mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("middleware: %d Retry-After %q; want 503 and 2", w.Code, w.Header().Get("Retry-After"))
	}
}

func assertStoreUnavailable(t *testing.T, err, cause error) {
	t.Helper()
	var ae *authorizer.AuthorizationError
	switch {
	case !errors.As(err, &ae):
		t.Fatalf("err = %v; want an *AuthorizationError", err)
	case ae.StatusCode != 503 || ae.RetryAfter <= 0 || !ae.Temporary():
		t.Fatalf("err = %+v; want 503, RetryAfter, Temporary", ae)
	case !errors.Is(err, authorizer.ErrDPoPReplayStoreUnavailable):
		t.Fatalf("err = %v; want it to wrap ErrDPoPReplayStoreUnavailable", err)
	case !errors.Is(err, cause):
		t.Fatalf("err = %v; want it to wrap %v", err, cause)
	}
}

// A store that never answers is bounded by the Verifier's timeout (made
// short here; the store blocks until its ctx ends, so a busy machine only
// makes the test slower), and an answer after the deadline is refused.
func TestDPoPReplayStoreSlowBounded(t *testing.T) {
	c := newClock()
	store := newFakeStore()
	store.block = true
	store.ctxs = make(chan context.Context, 2)
	v := newDPoPVerifier(t, c, WithDPoPReplayStore(store))
	v.cfg.dpopStoreTimeout = 20 * time.Millisecond
	tok := boundToken(dpKey.Thumbprint())
	_, err := v.VerifyDPoP(context.Background(), tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget)
	assertStoreUnavailable(t, err, context.DeadlineExceeded)
	if _, ok := (<-store.ctxs).Deadline(); !ok {
		t.Fatal("the store's ctx has no deadline")
	}

	// the default bound is DPoPReplayStoreTimeout, shorter when ctx is
	v = newDPoPVerifier(t, c, WithDPoPReplayStore(store))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget)
		done <- err
	}()
	sctx := <-store.ctxs
	if d, ok := sctx.Deadline(); !ok || time.Until(d) > DPoPReplayStoreTimeout {
		t.Fatalf("deadline %v, %v; want one within DPoPReplayStoreTimeout", d, ok)
	}
	cancel()
	err = <-done
	assertStoreUnavailable(t, err, context.Canceled)
}

// The store is asked only for a proof every other check accepted.
func TestDPoPReplayStoreAskedLast(t *testing.T) {
	c := newClock()
	now := c.Now()
	store := newFakeStore()
	secret := []byte(strings.Repeat("s", MinDPoPNonceSecret))
	v := newDPoPVerifier(t, c, WithDPoPReplayStore(store), WithDPoPNonces(secret, time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	nonce := v.DPoPNonce()
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	expired := token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now.Unix()-3600, "cnf", map[string]any{"jkt": dpKey.Thumbprint()}))
	good := mustProof(t, dpKey, "GET", dpTarget, tok, nonce, now)
	if _, err := v.VerifyDPoP(context.Background(), tok, good, "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tok, proof, method string
	}{
		{"replayed locally", tok, good, "GET"},
		{"expired token", expired, mustProof(t, dpKey, "GET", dpTarget, expired, nonce, now), "GET"},
		{"unbound token", unbound, mustProof(t, dpKey, "GET", dpTarget, unbound, nonce, now), "GET"},
		{"no proof", tok, "", "GET"},
		{"garbage proof", tok, "a.b.c", "GET"},
		{"other method", tok, mustProof(t, dpKey, "POST", dpTarget, tok, nonce, now), "GET"},
		{"other URL", tok, mustProof(t, dpKey, "GET", mustURL("https://api.example/v1/other"), tok, nonce, now), "GET"},
		{"old iat", tok, mustProof(t, dpKey, "GET", dpTarget, tok, nonce, now.Add(-time.Hour)), "GET"},
		{"future iat", tok, mustProof(t, dpKey, "GET", dpTarget, tok, nonce, now.Add(time.Hour)), "GET"},
		{"other token", tok, mustProof(t, dpKey, "GET", dpTarget, expired, nonce, now), "GET"},
		{"other key", tok, mustProof(t, dpKey2, "GET", dpTarget, tok, nonce, now), "GET"},
		{"no nonce", tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", now), "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := store.calls.Load()
			if _, err := v.VerifyDPoP(context.Background(), tt.tok, tt.proof, tt.method, dpTarget); err == nil {
				t.Fatal("accepted")
			}
			if store.calls.Load() != before {
				t.Fatal("the store was asked about a refused proof")
			}
		})
	}
	if n := store.calls.Load(); n != 1 {
		t.Fatalf("store calls = %d; want 1", n)
	}
}

// Two replicas and one store: the same proof sent to both at once is
// accepted exactly once.
func TestDPoPReplayStoreConcurrentReplicas(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := mrand.New(mrand.NewPCG(seed, 1))
	c := newClock()
	store := newFakeStore()
	replicas := []*Verifier{newDPoPVerifier(t, c, WithDPoPReplayStore(store)), newDPoPVerifier(t, c, WithDPoPReplayStore(store))}
	tok := boundToken(dpKey.Thumbprint())
	for round := range 20 {
		proof := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
		n := 2 + rnd.IntN(15)
		var accepted atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			v := replicas[(i+rnd.IntN(2))%2]
			wg.Go(func() {
				if _, err := v.VerifyDPoP(context.Background(), tok, proof, "GET", dpTarget); err == nil {
					accepted.Add(1)
				} else if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
					t.Errorf("err = %v; want ErrTokenDPoPReplay", err)
				}
			})
		}
		wg.Wait()
		if a := accepted.Load(); a != 1 {
			t.Fatalf("round %d, %d callers: %d acceptances; want 1", round, n, a)
		}
	}
}

func TestWithDPoPReplayStoreNil(t *testing.T) {
	var typedNil *fakeStore
	for _, tt := range []struct {
		name  string
		store DPoPReplayStore
	}{{"nil", nil}, {"typed nil", typedNil}} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{Issuer: testIssuer, Audience: []string{testAudience}}, WithDPoPReplayStore(tt.store))
			var ice *authorizer.InvalidConfigError
			if !errors.As(err, &ice) || !strings.Contains(ice.Setting, "WithDPoPReplayStore") {
				t.Fatalf("err = %v; want an InvalidConfigError naming WithDPoPReplayStore", err)
			}
		})
	}
}
