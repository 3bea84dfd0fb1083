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
