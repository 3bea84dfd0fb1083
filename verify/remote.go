package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// maxRemembered bounds the kids remembered as unknown.
const maxRemembered = 4096

// loader fetches a key set and says how long it may be used.
type loader func(ctx context.Context) (*keySet, time.Duration, error)

// remoteSource is a key set fetched from a URL. Reads are an atomic load;
// fetches are single-flight and run in a goroutine on a context that Close
// cancels, so a caller whose context ends can leave while the shared fetch
// goes on for the others.
type remoteSource struct {
	name  string // what is fetched, for errors and logs ("JWKS", "PEM")
	load  loader
	cfg   config
	err   error // construction error, reported by init
	clock atomic.Pointer[func() time.Time]

	set       atomic.Pointer[keySet]
	staleAt   atomic.Int64 // UnixNano after which a background refresh is due
	closedFlg atomic.Bool

	ctx    context.Context    // ends fetches; canceled by Close
	cancel context.CancelFunc // cancels ctx
	wg     sync.WaitGroup     // counts fetch goroutines

	mu          sync.Mutex          // guards the fields below
	inflight    *flight             // the fetch in progress, or nil
	lastFetch   time.Time           // start of the last fetch
	failures    int                 // consecutive failed fetches
	retryAt     time.Time           // no fetch before this after a failure
	lastErr     error               // the last fetch's error, or nil
	unknown     map[string]struct{} // kids absent from the last refresh
	clockLocked bool                // the clock came from WithClock
}

// flight is one shared fetch; set and err are written before done closes.
type flight struct {
	done chan struct{}
	set  *keySet
	err  error
}

var _ KeySource = (*remoteSource)(nil)

func newRemote(name string, load loader, opts []Option) *remoteSource {
	r := &remoteSource{name: name, load: load, cfg: defaultConfig(), unknown: map[string]struct{}{}}
	ctor := "verify." + name
	r.err = applyOptions(&r.cfg, forSource, ctor, opts)
	for _, o := range opts {
		if o.name == "WithClock" {
			r.clockLocked = true
		}
	}
	now := r.cfg.now
	r.clock.Store(&now)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

func (r *remoteSource) now() time.Time { return (*r.clock.Load())() }

func (r *remoteSource) init(now func() time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.clockLocked && now != nil {
		r.clock.Store(&now)
	}
	return r.err
}

// Close cancels a fetch in progress and waits for its goroutine.
func (r *remoteSource) Close() error {
	r.mu.Lock()
	r.closedFlg.Store(true)
	r.cancel()
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

func (r *remoteSource) closedError() error {
	return &authorizer.AuthorizationError{Message: "verify: key source is closed", Err: authorizer.ErrClosed}
}

// current returns the keys; the first call fetches them.
func (r *remoteSource) current(ctx context.Context) (*keySet, error) {
	if r.closedFlg.Load() {
		return nil, r.closedError()
	}
	if s := r.set.Load(); s != nil {
		return s, nil
	}
	r.mu.Lock()
	if s := r.set.Load(); s != nil {
		r.mu.Unlock()
		return s, nil
	}
	f, err := r.startLocked(r.now())
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.wait(ctx, f)
}

// tick starts a background refresh when the keys are stale.
func (r *remoteSource) tick(now time.Time) {
	if now.UnixNano() < r.staleAt.Load() || r.set.Load() == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil && now.UnixNano() >= r.staleAt.Load() && !now.Before(r.retryAt) {
		_, _ = r.startLocked(now)
	}
}

// missing applies the refresh rules for a kid that seen does not hold.
func (r *remoteSource) missing(ctx context.Context, kid string, seen *keySet) (*keySet, error) {
	r.mu.Lock()
	if cur := r.set.Load(); cur != seen && cur != nil {
		r.mu.Unlock()
		return cur, nil
	}
	f := r.inflight
	if f == nil {
		// A remembered kid costs no fetch while the keys are fresh; once
		// they are stale it may refresh them (no accepted token may be
		// left to start the periodic refresh).
		now := r.now()
		if _, known := r.unknown[kid]; known && kid != "" && now.UnixNano() < r.staleAt.Load() {
			err := r.lastErr
			r.mu.Unlock()
			return seen, err
		}
		if now.Sub(r.lastFetch) < r.cfg.minRefresh || now.Before(r.retryAt) {
			err := r.lastErr
			r.mu.Unlock()
			return seen, err
		}
		var err error
		if f, err = r.startLocked(now); err != nil {
			r.mu.Unlock()
			return seen, err
		}
	}
	r.mu.Unlock()
	s, err := r.wait(ctx, f)
	if s == nil {
		return seen, err
	}
	if err == nil {
		r.remember(kid, s)
	}
	return s, err
}

// remember notes a kid that the refreshed set s still lacks, so repeating
// it costs no further fetch until something else refreshes the keys.
func (r *remoteSource) remember(kid string, s *keySet) {
	if kid == "" {
		return
	}
	for _, k := range s.keys {
		if k.kid == kid {
			return
		}
	}
	r.mu.Lock()
	if r.set.Load() == s && len(r.unknown) < maxRemembered {
		r.unknown[kid] = struct{}{}
	}
	r.mu.Unlock()
}

// startLocked starts a fetch; r.mu is held.
func (r *remoteSource) startLocked(now time.Time) (*flight, error) {
	if r.closedFlg.Load() {
		return nil, r.closedError()
	}
	if r.inflight != nil {
		return r.inflight, nil
	}
	if now.Before(r.retryAt) {
		return nil, &authorizer.AuthorizationError{Message: "verify: fetching keys is backing off after a failure", Err: errors.Join(authorizer.ErrBackoff, r.lastErr)}
	}
	f := &flight{done: make(chan struct{})}
	r.inflight = f
	r.lastFetch = now
	r.wg.Add(1)
	go r.run(f) // ends when the fetch ends; Close cancels it and waits
	return f, nil
}

// run performs the fetch of f. It uses r.ctx, not a caller's context: the
// fetch is shared, so one caller leaving must not fail it for the others.
func (r *remoteSource) run(f *flight) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeoutCause(r.ctx, r.cfg.fetchTimeout, authorizer.ErrTimeout)
	s, maxAge, err := r.load(ctx)
	cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if err != nil {
		r.failures++
		r.lastErr = err
		r.retryAt = now.Add(backoff(r.cfg.minRefresh, r.failures))
		r.cfg.logger.Warn("verify: fetching keys failed; using the keys already held",
			slog.String("source", r.name), slog.Int("failures", r.failures), slog.String("error", err.Error()))
		f.set, f.err = r.set.Load(), err
	} else {
		r.replaceLocked(s)
		r.failures, r.lastErr, r.retryAt = 0, nil, time.Time{}
		r.staleAt.Store(now.Add(clamp(maxAge, r.cfg.minAge, r.cfg.maxAge)).UnixNano())
		f.set = s
	}
	r.inflight = nil
	close(f.done)
}

// replaceLocked swaps in s, keeping the identity of unchanged keys (so
// their cached tokens stay valid) and marking the others removed.
func (r *remoteSource) replaceLocked(s *keySet) {
	if old := r.set.Load(); old != nil {
		for i, k := range s.keys {
			for _, o := range old.keys {
				if k.equal(o) {
					s.keys[i] = o
				}
			}
		}
		for _, o := range old.keys {
			if !contains(s, o) {
				o.removed.Store(true)
			}
		}
	}
	clear(r.unknown)
	r.set.Store(s)
}

func contains(s *keySet, k *key) bool {
	for _, x := range s.keys {
		if x == k {
			return true
		}
	}
	return false
}

// wait waits for f or for ctx to end.
func (r *remoteSource) wait(ctx context.Context, f *flight) (*keySet, error) {
	select {
	case <-f.done:
		if f.set == nil && f.err != nil {
			return nil, f.err
		}
		return f.set, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("verify: waiting for keys: %w", ctx.Err())
	}
}

// backoff is the wait after n consecutive failures: min, doubling, capped.
func backoff(min time.Duration, n int) time.Duration {
	d := min
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return clamp(d, min, max(min, maxBackoff))
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// busy reports whether a fetch is in progress (for tests).
func (r *remoteSource) busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight != nil
}
