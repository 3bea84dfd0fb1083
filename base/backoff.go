package base

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// maxRetryAfter caps how long a server's Retry-After may stop token
// requests, so that a bogus value cannot disable a client for days.
const maxRetryAfter = 10 * time.Minute

// backoff returns the wait after the t.failures-th consecutive failure:
// exponential from minBackoff to maxBackoff with full jitter above the
// floor, or the server's Retry-After when it sent one. mu must be held.
func (t *Transport) backoff(err error) time.Duration {
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return min(ae.RetryAfter, maxRetryAfter)
	}
	ceiling := t.cfg.maxBackoff
	if shift := t.failures - 1; shift < 32 {
		ceiling = min(ceiling, t.cfg.minBackoff<<shift)
	}
	spread := ceiling - t.cfg.minBackoff
	if spread <= 0 {
		return t.cfg.minBackoff
	}
	return t.cfg.minBackoff + rand.N(spread+1)
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

// backingOff reports whether a failed token request forbids the next one
// yet. mu must be held.
func (t *Transport) backingOff() bool {
	return t.failures > 0 && t.now().UnixNano() < t.retryAt.Load()
}

// backoffError is returned to callers with no usable token while token
// requests back off: errors.Is(err, authorizer.ErrBackoff) holds, and the
// failure that caused the backoff stays reachable with errors.As. mu must
// be held.
func (t *Transport) backoffError() error {
	wait := time.Duration(t.retryAt.Load() - t.now().UnixNano())
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
