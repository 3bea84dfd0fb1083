package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is wrapped by the errors of calls made while Redis is
// failing: a call that failed or timed out, or one refused at once because
// the circuit breaker is open.
var ErrUnavailable = errors.New("redisstore: redis is unavailable")

// breaker stops calls to a failing Redis: after failures consecutive
// failed calls it opens for cooldown; then one call probes, and its
// success closes the breaker again.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	logger   *slog.Logger

	mu        sync.Mutex // guards the fields below
	failed    int        // consecutive failures
	openUntil time.Time  // zero when closed
	probing   bool       // a probe call is in flight
}

// allow reports whether a call may go to Redis now.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true
	}
	if b.probing || b.now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// outcome of one call, for the breaker.
type outcome int

const (
	succeeded outcome = iota
	failed
	abandoned // the caller gave up; says nothing about Redis
)

// done records a call's outcome.
func (b *breaker) done(o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasOpen := !b.openUntil.IsZero()
	b.probing = false
	switch o {
	case abandoned:
		return
	case succeeded:
		b.failed, b.openUntil = 0, time.Time{}
		if wasOpen {
			b.log(slog.LevelInfo, "redisstore: redis answers again; circuit breaker closed")
		}
		return
	}
	b.failed++
	if wasOpen || b.failed >= b.failures {
		b.openUntil = b.now().Add(b.cooldown)
		if !wasOpen {
			b.log(slog.LevelWarn, "redisstore: redis is failing; circuit breaker open",
				slog.Duration("cooldown", b.cooldown))
		}
	}
}

func (b *breaker) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if b.logger != nil {
		b.logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

// do runs one Redis call with its own deadline, through the breaker.
func (s *Store) do(ctx context.Context, f func(ctx context.Context) error) error {
	return s.breaker.call(ctx, s.cfg.callTimeout, f)
}

// call runs one Redis call f with its own deadline (timeout), through the
// breaker. A failure of Redis (or of the network, or the deadline) counts
// against the breaker and is returned wrapping ErrUnavailable; redis.Nil,
// a WRONGTYPE reply (returned as it is) and the caller's own cancellation
// do not count.
func (b *breaker) call(ctx context.Context, timeout time.Duration, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !b.allow() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := f(cctx)
	switch {
	case err == nil || errors.Is(err, redis.Nil) || isWrongType(err):
		b.done(succeeded)
		return err
	case ctx.Err() != nil:
		b.done(abandoned)
		return ctx.Err()
	}
	b.done(failed)
	return &unavailableError{err: err}
}

// isWrongType reports a WRONGTYPE reply: Redis answered (so it does not
// count against the breaker), about a key that holds what no Store wrote.
func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}

// unavailableError wraps a failed call's cause and ErrUnavailable.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return "redisstore: redis call failed: " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// Temporary reports true: Redis may answer again.
func (e *unavailableError) Temporary() bool { return true }

// errUnexpectedReply: a script answered with something it never returns.
var errUnexpectedReply = errors.New("unexpected reply")
