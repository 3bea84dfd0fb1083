package authorizer

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps what [ParseRetryAfter] returns: a server's wish to be
// left alone for longer than a day is treated as a day.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110
// §10.2.3): delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015
// 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), the latter
// relative to now. It returns 0 when v is empty, malformed, zero, negative
// or a date not after now, and at most [MaxRetryAfter]. It never panics.
//
// A custom [base.Authorizer] sets [AuthorizationError.RetryAfter] with it,
// so the Transport's backoff waits as long as the server asked:
//
//	ra := authorizer.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
//	return nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, RetryAfter: ra, ...}
//
// [base.Authorizer]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/base#Authorizer
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		return parseDelaySeconds(v)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter)
}

// parseDelaySeconds parses 1*DIGIT, saturating at MaxRetryAfter.
func parseDelaySeconds(v string) time.Duration {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0
		}
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	if err != nil || secs >= uint64(MaxRetryAfter/time.Second) { // only a range error is possible
		return MaxRetryAfter
	}
	return time.Duration(secs) * time.Second
}
