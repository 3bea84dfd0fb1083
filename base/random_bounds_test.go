package base

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"go.uber.org/goleak"
)

// While a background refresh is held at the provider, every request whose
// token is usable (inside the refresh-ahead window, not Expired) completes
// without waiting for it: random lifetimes, with and without ExpiresIn,
// with and without a shared cache, random bodies and contexts.
func TestRandomNoWaitWhileRefreshHeld(t *testing.T) {
	seed := rndSeed(t)
	t.Logf("seed %d (replay with BASE_RANDOM_SEED=%d)", seed, seed)
	r := &lockedRand{r: rand.New(rand.NewPCG(seed, 7))}
	held := 0
	for iter := range 40 {
		w, nodes := newRndWorld(t, seed+uint64(iter), 1, r.IntN(2) == 0, true, true)
		w.noRefuse.Store(true)
		n := nodes[0]
		if _, err := n.tr.Token(context.Background()); err != nil {
			t.Fatalf("seed %d: %v", w.seed, err)
		}
		waitIdle(t, n.tr)
		st := n.tr.cur.Load()
		gapAt := st.tok.Expiry.Add(-data.EffectiveGap(tokenLifetime(st.tok)))
		if st.noExpiry || !st.staleAt.Before(gapAt) {
			n.tr.Close()
			continue
		}
		target := st.staleAt.Add(time.Duration(r.IntN(int(gapAt.Sub(st.staleAt)))))
		w.clock.Advance(target.Sub(w.clock.Now()))
		gate := make(chan struct{})
		n.a.gate.Store(&gate)
		before := n.a.calls.Load()
		const m = 24
		var wg sync.WaitGroup
		rr := w.rand(99)
		for k := range m {
			wg.Go(func() { rndRequest(n, rr, int64(k)) })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second): // only a request stuck on the held refresh ends here
			close(gate)
			<-done
			t.Fatalf("seed %d: requests with a usable token waited on a held refresh", w.seed)
		}
		if got := n.a.calls.Load() - before; got > 1 {
			w.violate("%d token requests while one was held", got)
		}
		if w.stats["ok"] != m {
			w.violate("requests with a usable token while a refresh was held: %v, want %d ok", w.stats, m)
		}
		held++
		close(gate)
		n.tr.Close()
		for _, v := range w.violations {
			t.Error(v)
		}
	}
	goleak.VerifyNone(t)
	t.Logf("seed %d: %d of 40 lifetimes had a refresh-ahead window and were checked", seed, held)
}

// Token requests stay bounded by the backoff while the provider is down,
// and while the resource server refuses every token: at most one per
// minimum backoff of clock time, plus the first two.
func TestRandomTokenRequestsBounded(t *testing.T) {
	seed := rndSeed(t)
	t.Logf("seed %d (replay with BASE_RANDOM_SEED=%d)", seed, seed)
	for _, mode := range []string{"outage", "every token refused"} {
		t.Run(mode, func(t *testing.T) {
			w, nodes := newRndWorld(t, seed, 1, false, true, true)
			if mode == "outage" {
				w.outage.Store(true)
			} else {
				w.refuseAll.Store(true)
			}
			n := nodes[0]
			var forward atomic.Int64
			var wg sync.WaitGroup
			var ids atomic.Int64
			for k := range 16 {
				r := w.rand(uint64(200 + k))
				wg.Go(func() {
					for range 60 {
						rndRequest(n, r, ids.Add(1))
						switch k := r.IntN(50); {
						case k < 20:
							d := time.Duration(r.IntN(500)) * time.Millisecond
							forward.Add(int64(d))
							w.clock.Advance(d)
						case k == 20:
							w.clock.Advance(-time.Duration(r.IntN(10)) * time.Second)
						}
					}
				})
			}
			wg.Wait()
			n.tr.Close()
			goleak.VerifyNone(t)
			for _, v := range w.violations {
				t.Error(v)
			}
			bound := 2 + int32(time.Duration(forward.Load())/time.Second)
			calls := n.a.calls.Load()
			if calls > bound {
				t.Errorf("seed %d: %d token requests over %v of clock time, want at most %d",
					seed, calls, time.Duration(forward.Load()), bound)
			}
			t.Logf("seed %d: %d requests %v, %d token requests over %v (bound %d)",
				seed, ids.Load(), w.stats, calls, time.Duration(forward.Load()), bound)
		})
	}
}
