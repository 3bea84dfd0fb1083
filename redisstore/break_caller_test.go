package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
)

// Careless callers get an InvalidConfigError, never a panic.
func TestBreakNewCarelessCallers(t *testing.T) {
	mr := miniredis.RunT(t)
	var nilClient *redis.Client
	var nilCluster *redis.ClusterClient
	var nilRing *redis.Ring
	for name, call := range map[string]func() error{
		"typed nil *redis.Client":        func() error { _, err := New(nilClient, testKey); return err },
		"typed nil *redis.ClusterClient": func() error { _, err := New(nilCluster, testKey); return err },
		"typed nil *redis.Ring":          func() error { _, err := New(nilRing, testKey); return err },
		"nil Option":                     func() error { _, err := New(newClient(t, mr.Addr()), testKey, nil); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				err = call()
			}()
			var ice *authorizer.InvalidConfigError
			if !errors.As(err, &ice) {
				t.Errorf("New = %v; want an *authorizer.InvalidConfigError", err)
			}
		})
	}
}

// Neither the key nor a token reaches a printed Store, whatever the verb
// (also of its config), an error or a log record.
func TestBreakKeyNeverPrinted(t *testing.T) {
	mr := miniredis.RunT(t)
	key := bytes.Repeat([]byte("K"), 32)
	var logs bytes.Buffer
	s, err := New(newClient(t, mr.Addr()), key, WithOlderKeys(bytes.Repeat([]byte("O"), 32)),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	unlock, _ := s.Lock(ctx, "k")
	_ = s.Store(ctx, "k", token("secret-access", time.Now().Add(time.Hour)))
	_ = unlock()
	mr.HSet(s.keys("k").tok, "v", "garbage") // logs a warning
	_, _ = s.Load(ctx, "k")
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", s)
		fmt.Fprintf(&out, verb+"\n", s.cfg)
	}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("store", "s", s)
	all := out.String() + logs.String()
	for _, needle := range []string{"KKKK", "OOOO", "4b4b4b4b", "secret-access", "75, 75, 75"} {
		if strings.Contains(all, needle) {
			t.Errorf("printed output holds %q", needle)
		}
	}
}

// FINDING (medium): a Store has no Close, and a lease whose unlock is
// never called (a caller that panics between Lock and unlock without a
// defer, or forgets it) is renewed forever by its goroutine: it never
// expires, the goroutine leaks, and every other replica waits WithMaxWait
// (10 s by default, or 9/10 of its context) on every token request for
// that key, then requests its own token. "A holder that dies leaves a
// lease that expires within the lease TTL" holds only for a dead process.
func TestBreakAbandonedLeaseExpiresAfterMaxHold(t *testing.T) {
	mr := miniredis.RunT(t)
	a := newStoreOn(t, mr.Addr(), WithLeaseTTL(30*time.Millisecond), WithMaxHold(100*time.Millisecond))
	before := runtime.NumGoroutine()
	unlock, _ := a.Lock(context.Background(), "k")
	defer func() { _ = unlock() }()
	// The renewal gives up after the maximum hold; then the lease expires
	// (miniredis expires keys only when told time passed).
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if runtime.NumGoroutine() > before {
		t.Fatal("an abandoned lease (unlock never called) is renewed forever by its goroutine")
	}
	mr.FastForward(time.Second)
	if mr.Exists(a.keys("k").lock) {
		t.Fatal("the abandoned lease did not expire after the renewal stopped")
	}
}

// The additional data binds a value to its key and fence, so a value
// moved to another key or relabelled with another fence does not open;
// but an attacker who can write to Redis could put back an older (value,
// fence) pair of the same key, and Load returned that older token (the
// same client's, possibly revoked but unexpired). A Store now remembers
// the newest fence it has seen per key (fencemark.go) and refuses an
// older one. Fails on the old code: Load returns "old".
func TestBreakOldPairReplayIsRefused(t *testing.T) {
	mr, s := newMini(t)
	ctx := context.Background()
	store := func(access string) (v, f string) {
		unlock, _ := s.Lock(ctx, "k")
		defer func() { _ = unlock() }()
		if err := s.Store(ctx, "k", token(access, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		return mr.HGet(s.keys("k").tok, "v"), mr.HGet(s.keys("k").tok, "f")
	}
	v1, f1 := store("old")
	_, f2 := store("new")
	if f1 == f2 {
		t.Fatalf("fences %s and %s: want two leases", f1, f2)
	}
	mr.HSet(s.keys("k").tok, "v", v1, "f", f1)
	if tok, err := s.Load(ctx, "k"); err != nil || tok != nil {
		t.Fatalf("Load of a replayed older pair = %v, %v; want nil, nil (absent)", tok, err)
	}
	// The holder of the next lease finds it absent, and its token wins.
	store("newer")
	if tok, _ := s.Load(ctx, "k"); tok == nil || tok.AccessToken != "newer" {
		t.Errorf("after the next lease's Store, Load = %v; want newer", tok)
	}
}

// Redis lost the fencing counter (FLUSHALL, a failover without the data):
// fences start again from 1. A replica that remembers a higher fence
// refuses the newer replica's token until it writes its own (one token
// request more), then shares again; the one that wrote is not affected.
func TestFenceMarksAfterRedisLostItsData(t *testing.T) {
	mr, a := newMini(t)
	b := newStoreOn(t, mr.Addr())
	ctx := context.Background()
	put := func(s *Store, access string) {
		t.Helper()
		unlock, _ := s.Lock(ctx, "k")
		defer func() { _ = unlock() }()
		if err := s.Store(ctx, "k", token(access, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "t1")
	put(a, "t2")
	if tok, _ := a.Load(ctx, "k"); tok == nil || tok.AccessToken != "t2" {
		t.Fatalf("Load = %v; want t2", tok)
	}
	mr.FlushAll()
	put(b, "t3")
	if tok, _ := b.Load(ctx, "k"); tok == nil || tok.AccessToken != "t3" {
		t.Fatalf("the writer's Load = %v; want t3", tok)
	}
	if tok, _ := a.Load(ctx, "k"); tok != nil {
		t.Fatalf("a replica that saw fence 2 loaded fence 1: %v; want absent", tok)
	}
	put(a, "t4")
	for _, s := range []*Store{a, b} {
		if tok, _ := s.Load(ctx, "k"); tok == nil || tok.AccessToken != "t4" {
			t.Errorf("Load = %v; want t4", tok)
		}
	}
}
