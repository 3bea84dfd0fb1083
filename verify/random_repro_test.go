package verify

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Deterministic reproductions of what the randomized tests found.

// TestRandomReproRememberedKidReadsLastErrUnlocked: missing returned
// r.lastErr for a remembered kid after unlocking r.mu, racing with a fetch
// that writes it (found by TestRandomScenario under -race). Fixed: the
// error is read under the lock. Needs -race to fail on the old code.
func TestRandomReproRememberedKidReadsLastErrUnlocked(t *testing.T) {
	f := newRemoteFixture(t, WithMinRefreshInterval(time.Nanosecond))
	f.warm(t)
	const remembered = "never-published"
	if err := f.verify(remembered, 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("got %v; want ErrTokenUnknownKey", err)
	}
	f.srv.setDown(true)
	raw := token(rsaKey(0), "RS256", remembered, goodClaims())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // reads lastErr through the remembered-kid path
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = f.v.Verify(context.Background(), raw)
		}
	})
	// Failing fetches (started by a kid-less signature failure, which is
	// never remembered) write lastErr.
	bad := token(rsaKey(1), "RS256", "", goodClaims())
	for range 60 {
		f.clock.Add(time.Hour) // past any backoff
		_, _ = f.v.Verify(context.Background(), bad)
		for f.keys.(*remoteSource).busy() {
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(stop)
	wg.Wait()
}

// TestRandomReproRememberedKidPublishedLater: a token whose kid is not yet
// published (the issuer signed with a new key just before the receiver's
// fetch saw it) makes the kid remembered. When every later token uses
// that key there is no success, so no periodic refresh (tick runs only
// after an accepted token), and the remembered kid blocks the
// unknown-kid refresh: the new key was refused forever.
func TestRandomReproRememberedKidPublishedLater(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	if err := f.verify("k2", 1); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("before publication: %v; want ErrTokenUnknownKey", err)
	}
	f.srv.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	f.clock.Add(2 * DefaultMaxKeysAge) // the held keys are long stale
	var err error
	for range 3 {
		if err = f.verify("k2", 1); err == nil {
			return
		}
		waitIdle(t, f.keys)
	}
	t.Fatalf("key k2, published and past every interval, still refused: %v", err)
}

// TestRandomReproRememberedKidWithinOneInterval: the package doc promises
// that "a rotated key is accepted at most one interval after its first
// token". When that first token came before the key was published, the
// kid is remembered and the key is refused until the keys are stale
// (WithKeysAge min, 15 min by default), not one interval.
func TestRandomReproRememberedKidWithinOneInterval(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	if err := f.verify("k2", 1); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("before publication: %v; want ErrTokenUnknownKey", err)
	}
	f.srv.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	f.clock.Add(2 * DefaultMinRefreshInterval)
	_ = f.verify("k2", 1)
	waitIdle(t, f.keys)
	if err := f.verify("k2", 1); err != nil {
		t.Fatalf("key k2, published two intervals ago, refused: %v", err)
	}
}
