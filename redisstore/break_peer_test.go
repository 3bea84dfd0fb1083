//go:build linux

package redisstore

import (
	"context"
	"testing"
	"time"
)

// The poisoned-key defences run on a real Redis too (its Lua 5.1, its TYPE
// reply as a status table, its INCR on a non-integer).
func TestBreakPoisonedKeysRealRedis(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	c := newClient(t, addr)
	ctx := context.Background()
	for _, poison := range []string{"tok f garbage", "tok f huge", "fence garbage", "fence wrong type", "tok wrong type", "lock no ttl"} {
		t.Run(poison, func(t *testing.T) {
			prefix := "break-poison-" + time.Now().Format("150405.000000000") + ":"
			s := newStoreOn(t, addr, WithPrefix(prefix), WithMaxWait(200*time.Millisecond))
			k := s.keys("k")
			t.Cleanup(func() { c.Del(ctx, k.tok, k.lock, k.fence) })
			switch poison {
			case "tok f garbage":
				c.HSet(ctx, k.tok, "v", "x", "f", "garbage")
			case "tok f huge":
				c.HSet(ctx, k.tok, "v", "x", "f", "1e300")
			case "fence garbage":
				c.Set(ctx, k.fence, "garbage", 0)
			case "fence wrong type":
				c.HSet(ctx, k.fence, "a", "b")
			case "tok wrong type":
				c.Set(ctx, k.tok, "a string", 0)
			case "lock no ttl":
				c.Set(ctx, k.lock, "attacker", 0)
			}
			if _, err := s.Load(ctx, "k"); err != nil {
				t.Errorf("Load of a poisoned key = %v; want absent", err)
			}
			unlock, err := s.Lock(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Store(ctx, "k", token("new", time.Now().Add(time.Hour))); err != nil {
				t.Errorf("Store = %v", err)
			}
			_ = unlock()
			tok, err := s.Load(ctx, "k")
			if poison == "lock no ttl" {
				return // no lease: the Store only fills an empty key
			}
			if err != nil || tok == nil || tok.AccessToken != "new" {
				t.Errorf("poisoned key did not heal: Load = %v, %v", tok, err)
			}
			if !s.breaker.allow() {
				t.Error("breaker open")
			}
			for _, key := range []string{k.tok, k.fence} {
				if ttl := c.PTTL(ctx, key).Val(); ttl <= 0 {
					t.Errorf("%s has no TTL (%v)", key, ttl)
				}
			}
		})
	}
}

// A lease held while Redis is paused: unlock (release on its own context)
// and the renewal end within the call timeout, and nothing leaks.
func TestBreakUnlockOnPausedRedisIsBounded(t *testing.T) {
	p := startRedis(t)
	s := newStoreOn(t, p.addr(), WithCallTimeout(200*time.Millisecond), WithLeaseTTL(90*time.Millisecond))
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil || s.heldFence(s.keys("k").lock) == 0 {
		t.Fatalf("Lock = %v, fence %d", err, s.heldFence(s.keys("k").lock))
	}
	p.pause()
	defer p.resume()
	time.Sleep(100 * time.Millisecond) // a renewal is in flight against the paused server
	done := make(chan error, 1)
	go func() { done <- unlock() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("unlock on a paused Redis reported success")
		}
	case <-time.After(20 * time.Second): // only a hang fails
		t.Fatal("unlock hung on a paused Redis")
	}
}
