package base

import "time"

// EventKind names a lifecycle [Event].
type EventKind int

// Lifecycle events.
const (
	// EventFetched: a token was obtained with Authorize.
	EventFetched EventKind = iota + 1
	// EventRefreshed: a token was obtained with Refresh.
	EventRefreshed
	// EventFailed: a token request failed.
	EventFailed
	// EventBackoff: token requests pause until Event.Until (after a failed
	// token request, or a token a resource server refused at once).
	EventBackoff
	// EventInvalidated: a resource server refused the current token (401).
	EventInvalidated
	// EventCacheHit: a usable token was read from the TokenCache.
	EventCacheHit
)

var eventNames = [...]string{"", "fetched", "refreshed", "failed", "backoff", "invalidated", "cache_hit"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// Event describes one step of a token's lifecycle, as passed to
// [WithHook] and logged by [WithLogger]. It carries timings and the error,
// never a token or a secret.
type Event struct {
	Kind EventKind
	// Duration is how long the token request took (fetched, refreshed,
	// failed).
	Duration time.Duration
	// Expiry is the new token's expiry (fetched, refreshed, cache_hit).
	Expiry time.Time
	// Until is when the next token request may be made (backoff).
	Until time.Time
	// Attempt counts consecutive failures (failed, backoff).
	Attempt int
	// Background tells a refresh ahead of expiry from one a request waits on.
	Background bool
	// Err is the failure (failed, backoff).
	Err error
}
