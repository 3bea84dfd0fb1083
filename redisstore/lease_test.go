package redisstore

import (
	"context"
	"errors"
	"github.com/redis/go-redis/v9"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockIsExclusive(t *testing.T) {
	mr, a := newMini(t)
	b := newStoreOn(t, mr.Addr())
	ctx := context.Background()
	unlockA, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	got := make(chan bool)
	go func() {
		unlockB, err := b.Lock(ctx, "k")
		if err == nil {
			got <- released.Load() && b.heldFence(b.keys("k").lock) == 2
			_ = unlockB()
		} else {
			got <- false
		}
	}()
	// B is polling: it cannot hold the lease before A releases it.
	if err := a.Store(ctx, "k", token("from-a", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	released.Store(true)
	if err := unlockA(); err != nil {
		t.Fatal(err)
	}
	if !<-got {
		t.Fatal("B took the lease before A released it, or without fence 2")
	}
	if tok, _ := b.Load(ctx, "k"); tok == nil || tok.AccessToken != "from-a" {
		t.Errorf("B reads %v; want A's token", tok)
	}
}

// A holder whose lease expired mid-request cannot overwrite the token of
// the replica that took the lease after it.
func TestFenceRefusesLateHolder(t *testing.T) {
	for _, order := range []string{"late store after new", "late store before new"} {
		t.Run(order, func(t *testing.T) {
			mr, a := newMini(t, WithLeaseTTL(time.Second))
			b := newStoreOn(t, mr.Addr(), WithLeaseTTL(time.Second))
			ctx := context.Background()
			unlockA, _ := a.Lock(ctx, "k")
			defer unlockA()
			mr.FastForward(2 * time.Second) // A's lease expires mid-request
			unlockB, err := b.Lock(ctx, "k")
			if err != nil || b.heldFence(b.keys("k").lock) != 2 {
				t.Fatalf("B's Lock = %v, fence %d; want fence 2", err, b.heldFence(b.keys("k").lock))
			}
			defer unlockB()
			exp := time.Now().Add(time.Hour)
			if order == "late store before new" {
				_ = a.Store(ctx, "k", token("late", exp))
				_ = b.Store(ctx, "k", token("new", exp))
			} else {
				_ = b.Store(ctx, "k", token("new", exp))
				_ = a.Store(ctx, "k", token("late", exp))
			}
			if tok, _ := a.Load(ctx, "k"); tok == nil || tok.AccessToken != "new" {
				t.Errorf("stored = %v; want the new holder's token", tok)
			}
		})
	}
}

func TestStoreWithoutLeaseOnlyFillsEmptyKey(t *testing.T) {
	_, s := newMini(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	_ = s.Store(ctx, "k", token("first", exp))
	_ = s.Store(ctx, "k", token("second", exp))
	if tok, _ := s.Load(ctx, "k"); tok == nil || tok.AccessToken != "first" {
		t.Fatalf("stored = %v; want first", tok)
	}
	unlock, _ := s.Lock(ctx, "k")
	_ = s.Store(ctx, "k", token("leased", exp))
	_ = unlock()
	if tok, _ := s.Load(ctx, "k"); tok == nil || tok.AccessToken != "leased" {
		t.Fatalf("stored = %v; want leased", tok)
	}
}

// A lease whose holder died (never unlocks, never renews) is taken over
// once it expires.
func TestWaiterTakesOverExpiredLease(t *testing.T) {
	mr, dead := newMini(t, WithLeaseTTL(time.Second))
	b := newStoreOn(t, mr.Addr(), WithLeaseTTL(time.Second), WithMaxWait(time.Hour))
	ctx := context.Background()
	k := dead.keys("k")
	if ok, _, err := dead.acquire(ctx, k, "dead-holder"); !ok || err != nil {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	done := make(chan error)
	go func() {
		unlock, err := b.Lock(ctx, "k")
		if err == nil && b.heldFence(k.lock) == 0 {
			err = errors.New("went ahead without the lease")
		}
		if unlock != nil {
			_ = unlock()
		}
		done <- err
	}()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(20 * time.Millisecond):
			mr.FastForward(100 * time.Millisecond) // miniredis time moves only on demand
		}
	}
	t.Fatal("the waiter never took over the expired lease")
}

func TestLockGivesUpWaitingAfterMaxWait(t *testing.T) {
	mr, a := newMini(t)
	b := newStoreOn(t, mr.Addr(), WithMaxWait(50*time.Millisecond))
	ctx := context.Background()
	unlockA, _ := a.Lock(ctx, "k")
	defer unlockA()
	unlockB, err := b.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("Lock = %v; want nil (go ahead alone)", err)
	}
	if b.heldFence(b.keys("k").lock) != 0 {
		t.Error("B holds a lease A holds")
	}
	if err := unlockB(); err != nil {
		t.Error(err)
	}
}

func TestLockEndsWithContext(t *testing.T) {
	mr, a := newMini(t)
	b := newStoreOn(t, mr.Addr())
	unlockA, _ := a.Lock(context.Background(), "k")
	defer unlockA()
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	_, err := b.Lock(ctx, "k")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock = %v; want context.Canceled", err)
	}
}

func TestHolderRenewsLease(t *testing.T) {
	mr, s := newMini(t, WithLeaseTTL(90*time.Millisecond))
	unlock, _ := s.Lock(context.Background(), "k")
	lock := s.keys("k").lock
	// miniredis does not age keys by itself: a renewal shows as the TTL
	// set back to the full lease after we shorten it.
	mr.SetTTL(lock, time.Millisecond)
	for deadline := time.Now().Add(time.Minute); mr.TTL(lock) != 90*time.Millisecond; {
		if time.Now().After(deadline) {
			t.Fatal("the holder never renewed its lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if mr.Exists(lock) {
		t.Error("unlock left the lease behind")
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock = %v; want nil", err)
	}
}

// Redis down: Lock returns at once without a lease, Load and Store fail
// with ErrUnavailable, and once the breaker is open no call reaches Redis.
func TestRedisDownIsAnOptimisationLost(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	mr, s := newMini(t, withClock(clk.now), WithBreaker(2, time.Second))
	ctx := context.Background()
	mr.Close()
	for range 2 {
		if _, err := s.Load(ctx, "k"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Load = %v; want ErrUnavailable", err)
		}
	}
	if s.breaker.allow() {
		t.Fatal("breaker closed after 2 failures")
	}
	s.breaker.done(abandoned)
	unlock, err := s.Lock(ctx, "k")
	if err != nil || unlock() != nil {
		t.Fatalf("Lock = %v; want nil with a no-op unlock", err)
	}
	if err := s.Store(ctx, "k", token("secret-token", time.Now().Add(time.Hour))); !errors.Is(err, ErrUnavailable) ||
		strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("Store = %v; want ErrUnavailable without the token", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Load during cooldown = %v; want ErrUnavailable without a call", err)
	}
	clk.add(time.Second)
	if _, err := s.Load(ctx, "k"); err != nil {
		t.Fatalf("Load after cooldown = %v; want the probe to succeed", err)
	}
	if !s.breaker.allow() {
		t.Error("breaker still open after a successful probe")
	}
}

// A server that accepts connections and never answers (a paused Redis):
// each call ends at the call timeout, not at the client's read timeout.
func TestCallsAreBoundedAgainstSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	}()
	// A read timeout of a minute: only the call timeout can end the calls.
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true,
		MaxRetries: -1, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer client.Close()
	s, err := New(client, testKey, WithCallTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatalf("Lock = %v; want nil (go ahead alone)", err)
	}
	_ = unlock()
	_, err = s.Load(context.Background(), "k")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Load = %v; want ErrUnavailable", err)
	}
	// Two bounded calls; the client's read timeout alone would take 2 min.
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("two calls took %v; the call timeout was not applied", d)
	}
}
