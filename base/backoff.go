package base

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// maxRetryAfter caps how long a server's Retry-After may stop token
// requests, so that a bogus value cannot disable a client for days.
const maxRetryAfter = 10 * time.Minute

// noRetryAt is retryAt when no failure forbids a token request.
const noRetryAt = math.MinInt64

// recordFailure counts a failed token request (or a token useless at
// once) as the failures-th in a row and schedules the next token request.
// Deadlines are offsets from t.start: with clock readings from time.Now
// they are on the monotonic clock, so a step of the wall clock neither
// stalls nor hastens recovery. mu must be held.
func (t *Transport) recordFailure(err error, failures int, now time.Time) {
	t.failures, t.lastErr = failures, err
	next := now.Add(t.backoff(err, failures))
	if !hasRetryAfter(err) {
		next = beforeExpiry(now, next, t.cur.Load(), t.cfg.minBackoff)
	}
	t.retryAt.Store(int64(next.Sub(t.start)))
}

// backoff returns the wait after the failures-th consecutive failure: the
// server's Retry-After when it sent one, else a random wait between
// minBackoff and the exponential ceiling (see backoffCeiling).
func (t *Transport) backoff(err error, failures int) time.Duration {
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return min(ae.RetryAfter, maxRetryAfter)
	}
	ceiling := backoffCeiling(t.cfg.minBackoff, t.cfg.maxBackoff, failures)
	spread := ceiling - t.cfg.minBackoff
	if spread <= 0 {
		return t.cfg.minBackoff
	}
	return t.cfg.minBackoff + rand.N(spread+1)
}

// backoffCeiling is min(maxWait, minWait·2^(failures-1)), saturating at
// maxWait instead of overflowing for large minimums or failure counts.
func backoffCeiling(minWait, maxWait time.Duration, failures int) time.Duration {
	ceiling := minWait
	for i := 1; i < failures && ceiling < maxWait; i++ {
		if ceiling > maxWait/2 {
			return maxWait
		}
		ceiling *= 2
	}
	return min(ceiling, maxWait)
}

// hasRetryAfter reports whether the server said when to come back.
func hasRetryAfter(err error) bool {
	var ae *authorizer.AuthorizationError
	return errors.As(err, &ae) && ae.RetryAfter > 0
}

// beforeExpiry moves a retry scheduled after cur's token expires to halfway
// between now and that expiry, so that one more token request is made while
// the token still works, instead of callers failing once it has expired.
// It leaves next alone when there is less than two minimum backoffs left:
// attempts stay at least one minimum backoff apart.
func beforeExpiry(now, next time.Time, cur *tokenState, minWait time.Duration) time.Time {
	if !cur.hardValid(now) || cur.noExpiry {
		return next
	}
	left := cur.tok.Expiry.Sub(now)
	if !next.After(cur.tok.Expiry) || left < 2*minWait {
		return next
	}
	return now.Add(left / 2)
}

// since is now as an offset from t.start, the scale of retryAt.
func (t *Transport) since(now time.Time) int64 { return int64(now.Sub(t.start)) }

// backingOff reports whether a failed token request forbids the next one
// yet. mu must be held.
func (t *Transport) backingOff(now time.Time) bool {
	return t.failures > 0 && t.since(now) < t.retryAt.Load()
}

// backoffError is returned to callers with no usable token while token
// requests back off: errors.Is(err, authorizer.ErrBackoff) holds, and the
// failure that caused the backoff stays reachable with errors.As. mu must
// be held.
func (t *Transport) backoffError(now time.Time) error {
	wait := time.Duration(t.retryAt.Load() - t.since(now))
	return &authorizer.AuthorizationError{
		Message:    "base: no valid token",
		RetryAfter: max(wait, 0),
		Err:        &backoffCause{last: t.lastErr},
	}
}

// backoffCause wraps the last failure together with ErrBackoff.
type backoffCause struct{ last error }

func (e *backoffCause) Error() string {
	return "token requests are backing off after: " + e.last.Error()
}

func (e *backoffCause) Unwrap() []error { return []error{authorizer.ErrBackoff, e.last} }
