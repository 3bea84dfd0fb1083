package base

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// Defaults of the Transport's lifecycle. Each has an option.
const (
	// DefaultRefreshAhead caps how early a token is renewed in the
	// background: once less than min(DefaultRefreshAhead, lifetime/2)
	// remains.
	DefaultRefreshAhead = 5 * time.Minute
	// DefaultFetchTimeout bounds one token request made by the Transport.
	DefaultFetchTimeout = 30 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait after a failed
	// token request (exponential, randomized; see WithBackoff).
	DefaultMinBackoff = 1 * time.Second
	DefaultMaxBackoff = 30 * time.Second
)

// closeWait bounds how long Close waits for a token request to end.
const closeWait = 2 * time.Second

// Option configures a [Transport]. An invalid value is never dropped or
// replaced: [New] returns an [*authorizer.InvalidConfigError] naming the
// option, and a Transport from [NewTransport] or [NewClient] fails every
// RoundTrip and Token with it.
type Option func(*config)

// config is what the options set; see the With… functions for the fields.
type config struct {
	next         http.RoundTripper
	apiKey       string
	logger       *slog.Logger
	hook         func(Event)
	refreshAhead time.Duration
	fetchTimeout time.Duration
	minBackoff   time.Duration
	maxBackoff   time.Duration
	allowedHosts map[string]bool
	insecureHTTP bool
	cache        TokenCache
	cacheKey     string
	now          func() time.Time
	closeWait    time.Duration
	realClock    bool  // now is time.Now
	err          error // the first invalid option
}

func newConfig(opts []Option) config {
	c := config{
		next:         http.DefaultTransport,
		refreshAhead: DefaultRefreshAhead,
		fetchTimeout: DefaultFetchTimeout,
		minBackoff:   DefaultMinBackoff,
		maxBackoff:   DefaultMaxBackoff,
		now:          time.Now,
		realClock:    true,
		closeWait:    closeWait,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.next == nil {
		c.next = http.DefaultTransport
	}
	if c.now == nil {
		c.now = time.Now
		c.realClock = true
	}
	return c
}

// invalid records the first invalid option.
func (c *config) invalid(setting, problem string) {
	if c.err == nil {
		c.err = &authorizer.InvalidConfigError{Setting: "base: " + setting, Problem: problem}
	}
}

// WithBase sets the RoundTripper that sends the authorized requests.
// Optional; nil means [http.DefaultTransport].
func WithBase(next http.RoundTripper) Option {
	return func(c *config) { c.next = next }
}

// WithAPIKey sets the X-Api-Key value sent with every request. Optional;
// "" means the default: the Authorizer's ClientInfo().APIKey when the
// Authorizer is a [ClientInfoer], else none.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithLogger sets a logger for lifecycle events. Optional; nil (the
// default) logs nothing. Log records never carry a secret or a token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHook sets a function called for every lifecycle [Event]. Optional;
// nil (the default) means none. It is called synchronously from the
// goroutine that caused the event and must return quickly.
func WithHook(h func(Event)) Option {
	return func(c *config) { c.hook = h }
}

// WithRefreshAhead sets the most time before expiry at which a background
// refresh starts: min(d, lifetime/2), moved earlier at random by up to a
// tenth. Optional; default [DefaultRefreshAhead]. Zero disables refresh
// ahead: the first request in the expiration gap (the last
// [data.ExpirationGap] of a token's life, or a quarter of a short one)
// then waits for the new token, as does any request there when d is
// smaller than the gap. Authorizer.Expired is honoured whatever d is. A
// negative d is invalid.
func WithRefreshAhead(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalid("WithRefreshAhead", "must not be negative")
			return
		}
		c.refreshAhead = d
	}
}

// WithFetchTimeout bounds each token request the Transport makes. Optional;
// default [DefaultFetchTimeout]. d must be positive.
func WithFetchTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalid("WithFetchTimeout", "must be positive")
			return
		}
		c.fetchTimeout = d
	}
}

// WithBackoff sets the bounds of the backoff after a failed token request:
// after the n-th failure in a row the next token request waits a random
// time between minWait and min(maxWait, minWait·2^(n-1)). Optional; default
// [DefaultMinBackoff] to [DefaultMaxBackoff]. A server's Retry-After
// overrides it. Valid: 0 < minWait <= maxWait.
func WithBackoff(minWait, maxWait time.Duration) Option {
	return func(c *config) {
		if minWait <= 0 || maxWait < minWait {
			c.invalid("WithBackoff", "needs 0 < min <= max")
			return
		}
		c.minBackoff, c.maxBackoff = minWait, maxWait
	}
}

// WithAllowedHosts lists further hosts (host or host:port, case-insensitive)
// that may receive credentials when a redirect leads there. Optional; by
// default credentials follow a redirect only to the same host, and never
// from https to http. An empty host, or one with a scheme or path, is
// invalid.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *config) {
		if c.allowedHosts == nil {
			c.allowedHosts = make(map[string]bool, len(hosts))
		}
		for _, h := range hosts {
			if h == "" || strings.ContainsAny(h, "/?#@ ") {
				c.invalid("WithAllowedHosts", "needs host or host:port values")
				return
			}
			c.allowedHosts[strings.ToLower(h)] = true
		}
	}
}

// InsecureAllowHTTP lets credentials go over plain http to any host. By
// default they are sent over http only to loopback hosts (127.0.0.0/8, ::1,
// localhost) and otherwise only over https. Anyone on the network path can
// read and replay a token sent over plain http.
func InsecureAllowHTTP() Option {
	return func(c *config) { c.insecureHTTP = true }
}

// WithCache keeps the Transport's token in cache under key as well as in
// memory: a new Transport (or another process or replica sharing cache)
// starts with the stored token instead of requesting one. When cache is a
// [CacheLocker], token requests are made under its lock, so that the
// sharers of one cache make one token request per token lifetime. Optional;
// a nil cache means none (the default). With a cache, key must not be
// empty.
//
// DPoP-bound tokens are never written to cache: their key never leaves
// the process, and a token without it is useless to another. So a store
// shared by a fleet shares no DPoP tokens; each process requests its own.
// A DPoP token read from cache without its key ([dpop.KeyOf] nil, e.g.
// written by a serialising cache) is a miss: no error, no backoff.
func WithCache(cache TokenCache, key string) Option {
	return func(c *config) {
		if cache != nil && key == "" {
			c.invalid("WithCache", "needs a non-empty key")
			return
		}
		c.cache, c.cacheKey = cache, key
	}
}

// withClock replaces time.Now, for tests.
func withClock(now func() time.Time) Option {
	return func(c *config) { c.now, c.realClock = now, false }
}

// withCloseWait replaces closeWait, for tests.
func withCloseWait(d time.Duration) Option {
	return func(c *config) { c.closeWait = d }
}
