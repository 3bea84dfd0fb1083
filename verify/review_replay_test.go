package verify

import (
	"errors"
	"fmt"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Review of the per-key replay quota and the latest-clock rule
// (verify/dpopreplay.go).

func TestReviewReplayQuotaSmallCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	until := now.Add(5 * time.Minute)
	for size := 1; size < 20; size++ {
		c := newReplayCache(size)
		if c.perKey < 1 {
			t.Fatalf("size %d: per-key quota %d locks every key out", size, c.perKey)
		}
		accepted := 0
		for i := range size + 2 {
			if c.record("A", fmt.Sprint(i), until, now) == nil {
				accepted++
			}
		}
		want := size
		if size >= 16 {
			want = size / 4
		}
		if accepted != want {
			t.Fatalf("size %d: key A got %d entries, documented %d", size, accepted, want)
		}
		err := c.record("B", "b", until, now)
		if size < 16 && !errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
			t.Fatalf("size %d: other key: %v (documented: a small cache is shared, so B is refused)", size, err)
		}
		if size >= 16 && err != nil {
			t.Fatalf("size %d: key A's flood refused key B: %v", size, err)
		}
	}
}

// A quota per key is freed by the clock, and the count never goes
// negative or leaks (keys map empty once every entry is swept).
func TestReviewReplayQuotaFreedAndCounted(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newReplayCache(16)
	for i := range 4 {
		if err := c.record("A", fmt.Sprint(i), now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.record("A", "x", now.Add(time.Minute), now); !errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
		t.Fatalf("quota of 4 exceeded: %v", err)
	}
	later := now.Add(2 * time.Minute)
	if err := c.record("A", "x", later.Add(time.Minute), later); err != nil {
		t.Fatalf("dead entries still count against the key: %v", err)
	}
	if c.keys[mustOwner("A")] != 1 || len(c.m) != 1 {
		t.Fatalf("after the sweep: %d entries, key A counts %d", len(c.m), c.keys[mustOwner("A")])
	}
	// the same jti again, still live: a replay, not a quota refusal
	if err := c.record("A", "x", later.Add(time.Minute), later); !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("replay: %v", err)
	}
}

func mustOwner(jkt string) [8]byte {
	_, o := replayKey(jkt, "")
	return o
}

// The latest-clock rule: once the clock went back, a proof dead by the
// latest time seen is refused as too old (never accepted twice), and it is
// a proof refusal (401), not a full cache (503).
func TestReviewReplayLatestClock(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	age := 5 * time.Minute
	c := newReplayCache(4)
	if err := c.record("A", "1", t0.Add(age), t0); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(10 * time.Minute)
	if err := c.record("A", "2", t1.Add(age), t1); err != nil {
		t.Fatal(err)
	}
	// clock back to t0: proof 1 again
	err := c.record("A", "1", t0.Add(age), t0)
	var bad *authorizer.InvalidTokenError
	if !errors.As(err, &bad) || bad.Reason != authorizer.TokenDPoPProof {
		t.Fatalf("a proof swept before the clock stepped back: %v", err)
	}
	// a new proof made at the stepped-back time is refused too, until the
	// clock passes the latest seen minus the age: the price of the rule
	if err := c.record("A", "3", t0.Add(age), t0); err == nil {
		t.Fatal("a proof dead by the latest clock was accepted")
	}
}

// A key's quota full of live entries answers a Retry-After of when the
// cache's earliest entry dies, which may be another key's: the key is
// told to come back before its own entry frees.
func TestReviewReplayQuotaRetryAfter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newReplayCache(16)
	if err := c.record("B", "b", now.Add(2*time.Second), now); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := c.record("A", fmt.Sprint(i), now.Add(5*time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	err := c.record("A", "x", now.Add(5*time.Minute), now)
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) {
		t.Fatalf("quota: %v", err)
	}
	if ae.RetryAfter < time.Minute {
		t.Fatalf("regression (low): verify/dpopreplay.go:82 a key refused for its quota is told Retry-After %v (the earliest death in the whole cache, another key's), while its own first entry frees in 5m: it retries early into 503s; fix: for a quota refusal compute the key's own earliest death (or answer the proof age)", ae.RetryAfter)
	}
}
