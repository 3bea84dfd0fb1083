package redisstore

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// callCounter counts the commands a client sends (a script run counts once).
type callCounter struct{ n atomic.Int64 }

func (c *callCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *callCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *callCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func countedStore(t *testing.T, addr string, opts ...Option) (*Store, *callCounter) {
	t.Helper()
	c := newClient(t, addr)
	cc := &callCounter{}
	c.AddHook(cc)
	s, err := New(c, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, cc
}

// A local attacker (or a careless operator) who writes the lease key
// without a TTL must not make waiters poll Redis every millisecond: PTTL
// answers -1, and the wait used to be min(backoff, -1 ms clamped to 0 +
// 1 ms) = 1 ms for the whole WithMaxWait.
func TestBreakLeaseWithoutTTLDoesNotSpin(t *testing.T) {
	mr := miniredis.RunT(t)
	s, cc := countedStore(t, mr.Addr(), WithMaxWait(500*time.Millisecond))
	k := s.keys("k")
	if err := mr.Set(k.lock, "attacker"); err != nil { // no TTL
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	// 500 ms of backoff from 10 ms to 200 ms is at most ~8 polls (plus a
	// script load). A 1 ms spin makes hundreds.
	if n := cc.n.Load(); n > 20 {
		t.Errorf("Lock made %d Redis calls waiting 500ms on a lease without TTL; want a backoff (<= 20)", n)
	}
}

// A huge PX on the lease key must not block a replica longer than
// WithMaxWait / the context.
func TestBreakHugeLeaseIsBoundedByMaxWait(t *testing.T) {
	mr := miniredis.RunT(t)
	s, cc := countedStore(t, mr.Addr(), WithMaxWait(300*time.Millisecond))
	k := s.keys("k")
	mr.Set(k.lock, "attacker")
	mr.SetTTL(k.lock, 1000*time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		unlock, err := s.Lock(context.Background(), "k")
		if err != nil {
			t.Error(err)
			return
		}
		_ = unlock()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // generous: only a hang fails
		t.Fatal("Lock did not give up on a lease held for 1000h")
	}
	if n := cc.n.Load(); n > 20 {
		t.Errorf("Lock made %d calls in 300ms; want backoff", n)
	}
}

// hostileValues are what an attacker can put in the token hash.
var hostileValues = map[string][2]string{
	"garbage":       {"garbage", "1"},
	"empty f":       {"x", ""},
	"no f":          {"x", "-"},
	"wrong version": {"\x02" + strings.Repeat("a", 60), "1"},
	"truncated":     {"\x01abc", "1"},
	"only header":   {"\x01" + strings.Repeat("\x00", 12+16), "1"},
	"huge":          {"\x01" + strings.Repeat("\xff", 8<<20), "1"},
	"fence garbage": {"\x01" + strings.Repeat("a", 60), "NaN"},
	"fence huge":    {"\x01" + strings.Repeat("a", 60), "99999999999999999999999"},
	"fence neg":     {"\x01" + strings.Repeat("a", 60), "-5"},
}

// Load of any hostile value is (nil, nil): never a panic, never an error
// that would look like Redis down.
func TestBreakHostileValuesLoadAsAbsent(t *testing.T) {
	// The 8 MiB value takes longer than the default call timeout to read
	// on a loaded machine under -race: that would be a timeout, not the
	// value's fault.
	mr, s := newMini(t, WithCallTimeout(30*time.Second))
	for name, hv := range hostileValues {
		k := s.keys(name)
		if hv[1] == "-" {
			mr.HSet(k.tok, "v", hv[0])
		} else {
			mr.HSet(k.tok, "v", hv[0], "f", hv[1])
		}
		tok, err := s.Load(context.Background(), name)
		if tok != nil || err != nil {
			t.Errorf("%s: Load = %v, %v; want nil, nil", name, tok, err)
		}
	}
}

// A hostile fence in the token hash, or a non-integer fencing counter,
// must not wedge the key (every Lock and Store failing) nor, through the
// failures, open the circuit breaker for every other key of the Store.
func TestBreakPoisonedFenceDoesNotWedge(t *testing.T) {
	for _, poison := range []string{"tok f garbage", "fence garbage", "fence wrong type", "tok wrong type"} {
		t.Run(poison, func(t *testing.T) {
			mr, s := newMini(t)
			ctx := context.Background()
			k := s.keys("k")
			switch poison {
			case "tok f garbage":
				mr.HSet(k.tok, "v", "x", "f", "garbage")
			case "fence garbage":
				mr.Set(k.fence, "garbage")
			case "fence wrong type":
				mr.HSet(k.fence, "a", "b")
			case "tok wrong type":
				mr.Set(k.tok, "a string, not a hash")
			}
			for range 3 {
				unlock, err := s.Lock(ctx, "k")
				if err != nil {
					t.Fatal(err)
				}
				_ = s.Store(ctx, "k", token("new", time.Now().Add(time.Hour)))
				_ = unlock()
			}
			// other keys keep working: the breaker did not open
			unlock, _ := s.Lock(ctx, "other")
			if f := s.heldFence(s.keys("other").lock); f == 0 {
				t.Errorf("a poisoned key opened the breaker: Lock(other) got no lease")
			}
			if err := s.Store(ctx, "other", token("o", time.Now().Add(time.Hour))); err != nil {
				t.Errorf("Store(other) = %v", err)
			}
			_ = unlock()
			// and the poisoned key heals under a lease
			tok, err := s.Load(ctx, "k")
			if poison != "tok wrong type" && (err != nil || tok == nil || tok.AccessToken != "new") {
				t.Errorf("poisoned key did not heal: Load = %v, %v", tok, err)
			}
		})
	}
}
