//go:build linux

package redisstore

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/verify"
)

// DPoP replay across replicas, against a real redis-server.

func dpopPrefix(t *testing.T) string {
	p := fmt.Sprintf("test:dpop:%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		c := newClient(t, peerEnv(t, "AUTHORIZER_REDIS_ADDR"))
		if keys, _ := c.Keys(context.Background(), p+"*").Result(); len(keys) > 0 {
			_ = c.Del(context.Background(), keys...).Err()
		}
	})
	return p
}

// Two replicas share one Redis: a proof accepted by one is refused by the
// other; the key is a hash and expires at the proof's until plus margin.
func TestPeerDPoPReplayTwoReplicas(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	prefix := dpopPrefix(t)
	f := newDPoPFixture(t)
	opts := []DPoPReplayOption{WithDPoPReplayPrefix(prefix), WithDPoPReplayCallTimeout(5 * time.Second)}
	a, _ := f.replica(t, addr, opts...)
	b, _ := f.replica(t, addr, opts...)
	now := time.Now()
	proof := f.proof(t, now)
	if err := f.verify(a, proof); err != nil {
		t.Fatalf("replica a: %v", err)
	}
	var ite *authorizer.InvalidTokenError
	if err := f.verify(b, proof); !errors.As(err, &ite) || ite.Reason != authorizer.TokenDPoPReplay {
		t.Fatalf("replica b, the same proof: %v; want a TokenDPoPReplay", err)
	}
	if err := f.verify(b, f.proof(t, now)); err != nil {
		t.Fatalf("replica b, a new proof: %v", err)
	}
	// the gap the store closes: a replica with only its own cache accepts it
	alone, err := verify.New(verify.StaticKeys(f.issuer.Public()), verify.Expect{Issuer: testIssuer, Audience: []string{testAudience}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.verify(alone, proof); err != nil {
		t.Fatalf("a replica without the store: %v; want the replay accepted there", err)
	}

	c := newClient(t, addr)
	ctx := context.Background()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %q, %v; want 2", keys, err)
	}
	jti := jtiOf(t, proof)
	for _, k := range keys {
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(strings.TrimPrefix(k, prefix)) {
			t.Errorf("key %q: want the prefix and 64 hex digits", k)
		}
		for name, secret := range map[string]string{"jti": jti, "jkt": f.key.Thumbprint(), "token": f.token} {
			if strings.Contains(k, secret) || strings.Contains(c.Get(ctx, k).Val(), secret) {
				t.Errorf("key %q or its value holds the %s", k, name)
			}
		}
		// until = iat + proof age + 1 s, then the margin
		want := time.Unix(now.Unix(), 0).Add(verify.DefaultDPoPProofAge + time.Second + DefaultDPoPReplayMargin)
		// a lifetime (PX) from this process's clock: Redis's expiry is
		// that lifetime from when it got the command (same machine here)
		if got := c.PExpireTime(ctx, k).Val(); got < time.Duration(want.Add(-10*time.Second).UnixMilli())*time.Millisecond ||
			got > time.Duration(want.Add(10*time.Second).UnixMilli())*time.Millisecond {
			t.Errorf("key %q expires at %v ms; want about %d", k, got.Milliseconds(), want.UnixMilli())
		}
	}
}

// The same proof sent at once to replicas sharing Redis is accepted
// exactly once. Seeded: the seed is logged.
func TestPeerDPoPReplayConcurrent(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	prefix := dpopPrefix(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := mrand.New(mrand.NewPCG(seed, 2))
	f := newDPoPFixture(t)
	opts := []DPoPReplayOption{WithDPoPReplayPrefix(prefix), WithDPoPReplayCallTimeout(5 * time.Second)}
	var replicas []*verify.Verifier
	for range 2 {
		v, _ := f.replica(t, addr, opts...)
		replicas = append(replicas, v)
	}
	for round := range 30 {
		proof := f.proof(t, time.Now())
		n := 2 + rnd.IntN(20)
		var accepted atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			v := replicas[(i+rnd.IntN(2))%2]
			wg.Go(func() {
				<-start
				if err := f.verify(v, proof); err == nil {
					accepted.Add(1)
				} else if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
					t.Errorf("err = %v; want ErrTokenDPoPReplay", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := accepted.Load(); got != 1 {
			t.Fatalf("round %d, %d callers on 2 replicas: %d acceptances; want exactly 1", round, n, got)
		}
	}
}

// Redis down: every proof is refused (fail closed) with 503 and
// Retry-After; the breaker opens and then refuses without calling Redis;
// when Redis is back (and the cooldown over) proofs pass again.
func TestPeerDPoPReplayRedisDown(t *testing.T) {
	p := startRedis(t)
	clk := &fakeClock{t: time.Now()} // the clock until is judged by, too
	f := newDPoPFixture(t)
	v, s := f.replica(t, p.addr(), withDPoPReplayClock(clk.now), WithDPoPReplayBreaker(2, time.Second),
		WithDPoPReplayCallTimeout(5*time.Second))
	if err := f.verify(v, f.proof(t, time.Now())); err != nil {
		t.Fatalf("Redis up: %v", err)
	}
	p.kill()
	for i := range 3 {
		err := f.verify(v, f.proof(t, time.Now()))
		var ae *authorizer.AuthorizationError
		if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.RetryAfter <= 0 || !ae.Temporary() ||
			!errors.Is(err, ErrUnavailable) || !errors.Is(err, authorizer.ErrDPoPReplayStoreUnavailable) {
			t.Fatalf("call %d, Redis down: %v; want a 503 wrapping ErrUnavailable", i, err)
		}
	}
	if s.breaker.allow() {
		t.Fatal("breaker closed after failed calls")
	}
	h := verify.Middleware(v, verify.WithExternalOrigin("https://api.example"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler reached while Redis is down")
	}))
	r := httptest.NewRequest("GET", "http://10.0.0.1/v1/things", nil)
	r.Header.Set("Authorization", "DPoP "+f.token)
	r.Header.Set("DPoP", f.proof(t, time.Now()))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("middleware: %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}

	p.start()
	clk.add(2 * time.Second) // the cooldown is over: one probe
	if err := f.verify(v, f.proof(t, time.Now())); err != nil {
		t.Fatalf("Redis back: %v", err)
	}
}

// A paused Redis answers nothing: the store's call timeout (below the
// Verifier's bound) ends each call, the proof is refused with 503.
func TestPeerDPoPReplayRedisPaused(t *testing.T) {
	p := startRedis(t)
	f := newDPoPFixture(t)
	v, s := f.replica(t, p.addr(), WithDPoPReplayCallTimeout(100*time.Millisecond))
	if err := f.verify(v, f.proof(t, time.Now())); err != nil { // a pooled connection, then pause
		t.Fatalf("Redis up: %v", err)
	}
	p.pause()
	defer p.resume()
	for i := range 2 {
		start := time.Now()
		err := f.verify(v, f.proof(t, time.Now()))
		t.Logf("call %d against a paused Redis: %v", i, time.Since(start).Round(time.Millisecond))
		var ae *authorizer.AuthorizationError
		if !errors.As(err, &ae) || ae.StatusCode != 503 || !errors.Is(err, authorizer.ErrDPoPReplayStoreUnavailable) {
			t.Fatalf("call %d: %v; want a 503 wrapping ErrDPoPReplayStoreUnavailable", i, err)
		}
		if !errors.Is(err, ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: %v; want the store's or the Verifier's deadline", i, err)
		}
	}
	t.Logf("breaker open after two paused calls: %v", !s.breaker.allow())
}

// The cost of the shared check: one Redis round trip per accepted proof.
func BenchmarkPeerDPoPReplayRecord(b *testing.B) {
	addr := os.Getenv("AUTHORIZER_REDIS_ADDR")
	if addr == "" {
		b.Skip("AUTHORIZER_REDIS_ADDR is not set")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	prefix := fmt.Sprintf("bench:dpop:%d:", time.Now().UnixNano())
	s, err := NewDPoPReplayStore(c, WithDPoPReplayPrefix(prefix), WithDPoPReplayMargin(0))
	if err != nil {
		b.Fatal(err)
	}
	until := time.Now().Add(10 * time.Second)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if fresh, err := s.Record(context.Background(), strconv.FormatInt(n.Add(1), 10), until); err != nil || !fresh {
				b.Errorf("Record: %v, %v", fresh, err)
				return
			}
		}
	})
}
