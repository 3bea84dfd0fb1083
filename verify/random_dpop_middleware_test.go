package verify

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"

	"go.uber.org/goleak"
)

// Randomized concurrent scenarios for Middleware with DPoP (RFC 9449):
// rounds of many goroutines sending a random mix of valid proofs, replays
// (the same proof twice, concurrently or rounds later), proofs for another
// method, URL or token, signed by another key, too old or in the future
// (a fake clock), without a nonce, with a nonce of two slots ago, and
// Bearer presentations of the bound token; between rounds the fake clock
// moves (nonce slots rotate, proofs age, replay entries die). An oracle
// computed from the request and the clock alone, not from the Verifier,
// says which sends are valid. Checked: each valid proof accepted exactly
// once (or refused 503 while the replay cache really is full of live
// entries), no invalid send accepted, the cache never over its capacity,
// and capacity freed as the clock moves. A fixed seed set runs by default;
// DPOP_RANDOM_SEED=n replays one, DPOP_RANDOM_SEEDS=k adds k from the clock.

func rdmSeeds(t *testing.T) []uint64 {
	return peertest.Seeds(t, "DPOP_RANDOM_SEED", 1, 2, 3, 5, 8, 13, 21, 34)
}

// Kinds of sends.
const (
	rdmGood = iota
	rdmWrongMethod
	rdmWrongURL
	rdmWrongToken // ath of another token
	rdmWrongKey   // signed by a key the token is not bound to
	rdmOld        // iat older than the proof age
	rdmFuture     // iat beyond the leeway (valid once the clock catches up)
	rdmNoNonce
	rdmOldNonce // the nonce of two slots ago
	rdmBearer   // the bound token as Bearer, with a good proof
	rdmUnbound  // a token without cnf.jkt presented as DPoP
	rdmKinds
)

// rdmProof is one proof made for a send, and what the oracle needs.
type rdmProof struct {
	id      int
	kind    int
	raw     string
	iat     int64 // seconds
	slot    int64 // nonce slot at creation, for a proof with the current nonce
	scheme  string
	tok     string // the token sent with the proof
	method  string
	target  string
	hasNone bool // a proof that carries the current nonce
}

type rdmWorld struct {
	t       *testing.T
	seed    uint64
	rnd     *mrand.Rand
	c       *clock
	v       *Verifier
	h       http.Handler
	tok     string
	unbound string // a token without cnf.jkt
	age     time.Duration
	size    int
	slot    time.Duration // 0: nonces off
	proofs  []*rdmProof
	mu      sync.Mutex     // guards accepts, acceptedAt
	accepts map[string]int // proof -> 200s
	live    []int64        // UnixNano each accepted proof's entry dies at
	fails   []string
}

func (w *rdmWorld) failf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.fails) < 20 {
		w.fails = append(w.fails, fmt.Sprintf("seed %d: ", w.seed)+fmt.Sprintf(format, args...))
	}
}

func newRDMWorld(t *testing.T, seed uint64) *rdmWorld {
	c := newClock()
	w := &rdmWorld{t: t, seed: seed, rnd: mrand.New(mrand.NewPCG(seed, 29)), c: c, accepts: map[string]int{}}
	w.age = []time.Duration{5 * time.Second, 20 * time.Second, time.Minute}[w.rnd.IntN(3)]
	w.size = 4 + w.rnd.IntN(60)
	opts := []Option{WithDPoPProofAge(w.age), WithDPoPReplayCacheSize(w.size)}
	if w.rnd.IntN(3) != 0 {
		w.slot = []time.Duration{time.Second, 3 * time.Second, 30 * time.Second}[w.rnd.IntN(3)]
		secret := make([]byte, MinDPoPNonceSecret)
		for i := range secret {
			secret[i] = byte(w.rnd.IntN(256))
		}
		opts = append(opts, WithDPoPNonces(secret, w.slot))
	}
	w.v = newDPoPVerifier(t, c, opts...)
	w.tok = boundToken(dpKey.Thumbprint())
	w.unbound = token(rsaKey(0), "RS256", "", goodClaims())
	w.h = Middleware(w.v, InsecureTrustHostHeader())(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.accepts[r.Header.Get("DPoP")]++
		w.mu.Unlock()
	}))
	return w
}

// newProof makes a proof of kind at the clock's now.
func (w *rdmWorld) newProof(kind int) *rdmProof {
	now := w.c.Now()
	p := &rdmProof{id: len(w.proofs), kind: kind, scheme: "DPoP", method: "GET",
		target: fmt.Sprintf("https://api.example/r%d", w.rnd.IntN(4))}
	if w.rnd.IntN(2) == 0 {
		p.method = "POST"
	}
	method, target, tok, key, nonce, at := p.method, p.target, w.tok, dpKey, "", now
	p.tok = w.tok
	if w.slot > 0 {
		nonce, p.hasNone, p.slot = w.v.DPoPNonce(), true, now.UnixNano()/int64(w.slot)
	}
	switch kind {
	case rdmWrongMethod:
		method = "DELETE"
	case rdmWrongURL:
		target = "https://api.example/elsewhere"
	case rdmWrongToken:
		tok = boundToken(dpKey2.Thumbprint())
	case rdmWrongKey:
		key = dpKey2
	case rdmOld:
		at = now.Add(-w.age - time.Duration(1+w.rnd.IntN(90))*time.Second)
	case rdmFuture:
		at = now.Add(DefaultNotBeforeLeeway + time.Duration(2+w.rnd.IntN(90))*time.Second)
	case rdmNoNonce:
		nonce, p.hasNone = "", false
	case rdmOldNonce:
		if w.slot > 0 {
			nonce, p.hasNone = w.v.nonces.at(now.UnixNano()/int64(w.slot)-2), false
		}
	case rdmBearer:
		p.scheme = "Bearer"
	case rdmUnbound:
		p.tok, tok = w.unbound, w.unbound
	}
	p.iat = at.Unix()
	p.raw = mustProof(w.t, key, method, mustURL(target), tok, nonce, at)
	w.proofs = append(w.proofs, p)
	return p
}

// valid is the oracle: whether p sent now must be accepted (unless it was
// accepted before, or the replay cache is full).
func (w *rdmWorld) valid(p *rdmProof, now time.Time) bool {
	iat := time.Unix(p.iat, 0)
	switch {
	case p.kind == rdmGood, p.kind == rdmFuture, p.kind == rdmNoNonce && w.slot == 0, p.kind == rdmOldNonce && w.slot == 0:
	default:
		return false
	}
	if iat.Before(now.Add(-w.age)) || iat.After(now.Add(DefaultNotBeforeLeeway)) {
		return false
	}
	if w.slot > 0 {
		d := now.UnixNano()/int64(w.slot) - p.slot
		return p.hasNone && (d == 0 || d == 1)
	}
	return true
}

// liveAt counts accepted proofs whose replay entry lives at now: the
// entry of a proof lives until iat + age + 1s (verify/dpop.go).
func (w *rdmWorld) liveAt(now time.Time) int {
	n := 0
	for _, dies := range w.live {
		if dies > now.UnixNano() {
			n++
		}
	}
	return n
}

type rdmSend struct {
	p      *rdmProof
	double bool // the proof twice, in two DPoP headers: refused, and its jti not spent
	status int
}

// round sends a random mix concurrently with the clock still, and checks.
func (w *rdmWorld) round(r int) (accepted, full int) {
	var sends []*rdmSend
	for range 10 + w.rnd.IntN(50) {
		var p *rdmProof
		switch k := w.rnd.IntN(3); {
		case k == 0 && len(w.proofs) > 0: // an earlier proof again
			p = w.proofs[w.rnd.IntN(len(w.proofs))]
		case k == 1:
			p = w.newProof(w.rnd.IntN(rdmKinds))
		default:
			p = w.newProof(rdmGood)
		}
		for range 1 + w.rnd.IntN(2) { // twice: a concurrent replay
			sends = append(sends, &rdmSend{p: p, double: w.rnd.IntN(8) == 0})
		}
	}
	w.rnd.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
	before := map[string]int{}
	w.mu.Lock()
	for _, s := range sends {
		before[s.p.raw] = w.accepts[s.p.raw]
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	next := make(chan *rdmSend)
	for range 1 + w.rnd.IntN(16) {
		wg.Go(func() {
			for s := range next {
				proofs := []string{s.p.raw}
				if s.double {
					proofs = append(proofs, s.p.raw)
				}
				req := dpopRequest(s.p.method, s.p.target, s.p.scheme, s.p.tok, proofs...)
				rec := httptest.NewRecorder()
				w.h.ServeHTTP(rec, req)
				s.status = rec.Code
			}
		})
	}
	for _, s := range sends {
		next <- s
	}
	close(next)
	wg.Wait()
	return w.check(r, sends, before)
}

func (w *rdmWorld) check(r int, sends []*rdmSend, before map[string]int) (accepted, full int) {
	now := w.c.Now()
	ok, unavailable := map[*rdmProof]int{}, map[*rdmProof]int{}
	for _, s := range sends {
		switch {
		case s.double && s.status != http.StatusBadRequest && s.status != http.StatusUnauthorized:
			w.failf("round %d: proof %d in two DPoP headers answered %d; want 400 or 401", r, s.p.id, s.status)
		case s.double:
		case s.status == http.StatusOK:
			if !w.valid(s.p, now) {
				w.failf("round %d: proof %d (kind %d) accepted; the oracle says invalid", r, s.p.id, s.p.kind)
			}
			ok[s.p]++
		case s.status == http.StatusServiceUnavailable:
			unavailable[s.p]++
			full++
			if !w.valid(s.p, now) {
				w.failf("round %d: invalid proof %d (kind %d) answered 503; want 401", r, s.p.id, s.p.kind)
			}
		case s.status != http.StatusUnauthorized:
			w.failf("round %d: proof %d (kind %d) answered %d", r, s.p.id, s.p.kind, s.status)
		}
	}
	w.mu.Lock()
	for p, n := range ok {
		if n+before[p.raw] > 1 {
			w.fails = append(w.fails, fmt.Sprintf("seed %d: round %d: proof %d accepted %d times", w.seed, r, p.id, n+before[p.raw]))
		}
		w.live = append(w.live, time.Unix(p.iat, 0).Add(w.age+time.Second).UnixNano())
		accepted++
	}
	w.mu.Unlock()
	live := w.liveAt(now)
	for _, s := range sends {
		p := s.p
		if s.double || !w.valid(p, now) || before[p.raw] > 0 || ok[p] > 0 {
			continue
		}
		if unavailable[p] == 0 {
			w.failf("round %d: valid proof %d never accepted (%d)", r, p.id, s.status)
		} else if live < newReplayCache(w.size).perKey { // below a key's share, nothing may be full
			w.failf("round %d: valid proof %d refused 503 with %d live entries of %d", r, p.id, live, w.size)
		}
	}
	w.v.replay.mu.Lock()
	n := len(w.v.replay.m)
	w.v.replay.mu.Unlock()
	if n > w.size || live > w.size {
		w.failf("round %d: replay cache holds %d, %d live accepted; capacity %d", r, n, live, w.size)
	}
	return accepted, full
}

func TestRandomDPoPMiddleware(t *testing.T) {
	dpFixtures(t)
	for _, seed := range rdmSeeds(t) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			w := newRDMWorld(t, seed)
			sent, accepted, full, freed := 0, 0, 0, 0
			for r := range 14 {
				a, f := w.round(r)
				accepted, full = accepted+a, full+f
				if f > 0 { // full: the clock moves on past the proof age, and capacity comes back
					w.c.Add(w.age + 2*time.Second)
					if a, _ := w.round(r); a == 0 {
						w.failf("round %d: nothing accepted after the clock passed the proof age", r)
					} else {
						freed++
					}
					continue
				}
				steps := []time.Duration{0, 300 * time.Millisecond, time.Second, w.slot, w.age / 2, w.age + 2*time.Second}
				w.c.Add(steps[w.rnd.IntN(len(steps))])
			}
			for _, f := range w.fails {
				t.Error(f)
			}
			if t.Failed() {
				t.Logf("replay with DPOP_RANDOM_SEED=%d", seed)
			}
			sent = len(w.proofs)
			t.Logf("seed %d: age %v, cache %d, nonce slot %v: %d proofs, %d accepted, %d refused full, %d times freed",
				seed, w.age, w.size, w.slot, sent, accepted, full, freed)
		})
	}
}

// FINDING repro: the replay cache forgets an entry when the clock has
// passed its death, and keeps no memory of how far the clock went: when
// the clock then steps back (an NTP correction on a server), a proof
// accepted before the step is fresh again and its jti forgotten, so the
// same proof is accepted a second time. Here: cache of 3, proofs P and Q
// at T, two more at T+age+2s (the second finds the cache full and sweeps P
// and Q), the clock back to T+1s, P replayed.
func TestRandomDPoPReplayAfterClockStepBack(t *testing.T) {
	// was a FINDING (low); fixed: the cache keeps the latest time it has seen
	c := newClock()
	age := 10 * time.Second
	v := newDPoPVerifier(t, c, WithDPoPProofAge(age), WithDPoPReplayCacheSize(3))
	h := Middleware(v, InsecureTrustHostHeader())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tok := boundToken(dpKey.Thumbprint())
	target := "https://api.example/v1/things"
	serve := func(proof string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, dpopRequest("GET", target, "DPoP", tok, proof))
		return rec.Code
	}
	fresh := func() string { return mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now()) }
	p := fresh()
	for i, proof := range []string{p, fresh()} {
		if got := serve(proof); got != http.StatusOK {
			t.Fatalf("proof %d at T: %d; want 200", i, got)
		}
	}
	c.Add(age + 2*time.Second)
	for i := range 2 {
		if got := serve(fresh()); got != http.StatusOK {
			t.Fatalf("fresh proof %d once the first two are dead: %d; want 200", i, got)
		}
	}
	c.Add(-(age + time.Second)) // the clock steps back to T+1s
	if got := serve(p); got == http.StatusOK {
		t.Errorf("the proof accepted before the clock stepped back was accepted again")
	}
}
