package base

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Review of lockBounded (363bcb7, 8bac800): the helper goroutines end, a
// late lock is released, a late panic is contained.

// lateLock's Lock ignores ctx, returns when release is closed: with a
// lock, with an error, or by panicking.
type lateLock struct {
	NoopTokenCache
	release  chan struct{}
	mode     string // "ok", "err", "panic"
	unlocked chan struct{}
	once     sync.Once
}

func (l *lateLock) Lock(context.Context, string) (func() error, error) {
	<-l.release
	switch l.mode {
	case "panic":
		panic("cache exploded late")
	case "err":
		return func() error { l.once.Do(func() { close(l.unlocked) }); return nil }, context.DeadlineExceeded
	}
	return func() error { l.once.Do(func() { close(l.unlocked) }); return nil }, nil
}

func TestReviewLockBoundedLate(t *testing.T) {
	for _, mode := range []string{"ok", "err", "panic"} {
		t.Run(mode, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			clock := newClock()
			f := newFake(clock)
			lock := &lateLock{release: make(chan struct{}), mode: mode, unlocked: make(chan struct{})}
			// a short fetch timeout: the lock wait is a quarter of it (Lock
			// blocks until release, so the wait always runs out first)
			tr := newTestTransport(t, f, clock, &recorder{}, WithCache(lock, "k"), WithFetchTimeout(100*time.Millisecond))
			_, err := tr.Token(context.Background())
			require.NoError(t, err)
			close(lock.release)
			if mode == "ok" {
				<-lock.unlocked // a late lock is released at once
			}
			tr.Close()
			// goleak waits (with retries) for both helper goroutines to end
		})
	}
}

// ctxLock records the context Lock got, and whether it had ended by the
// time the holder unlocked: a Lock that ties its lease (or its renewal) to
// ctx, as a lease-based store would, loses it while the token is fetched.
type ctxLock struct {
	NoopTokenCache
	mu          sync.Mutex
	endedInHold bool
}

func (l *ctxLock) Lock(ctx context.Context, _ string) (func() error, error) {
	return func() error {
		l.mu.Lock()
		l.endedInHold = ctx.Err() != nil
		l.mu.Unlock()
		return nil
	}, nil
}

func TestReviewLockContextOutlivesHold(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	lock := &ctxLock{}
	tr := newTestTransport(t, f, clock, &recorder{}, WithCache(lock, "k"))
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	lock.mu.Lock()
	defer lock.mu.Unlock()
	doc, _ := os.ReadFile("cache.go")
	if lock.endedInHold && !strings.Contains(string(doc), "ctx bounds only the wait") {
		t.Fatal("FINDING (low, doc): base/cacheuse.go:66-67 the ctx given to CacheLocker.Lock is cancelled as soon as lockCache returns, i.e. while the lock is held and the token fetched; a Lock that scopes its lease or renewal to ctx loses the lock early (N sharers fetch again). Fix: say in base/cache.go's CacheLocker doc that ctx bounds only the wait and the lock must outlive it (or hand Lock a ctx that ends at unlock)")
	}
}

// The CacheLocker doc still says a Lock that ignores ctx holds up the
// token request, which lockBounded (363bcb7) made untrue.
func TestReviewCacheLockerDocCurrent(t *testing.T) {
	src, err := os.ReadFile("cache.go")
	require.NoError(t, err)
	if strings.Contains(strings.Join(strings.Fields(string(src)), " "), "a Lock that // ignores ctx holds up the token request") {
		t.Fatal("FINDING (low, doc): base/cache.go:35-36 CacheLocker's doc says \"a Lock that ignores ctx holds up the token request\", no longer true since lockBounded; fix: \"a Lock that ignores ctx is waited for no longer; a lock it obtains later is released at once\"")
	}
}
