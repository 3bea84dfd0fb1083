package base

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
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
	// token request (exponential, full jitter).
	DefaultMinBackoff = 1 * time.Second
	DefaultMaxBackoff = 30 * time.Second
)

// Option configures a Transport.
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
}

func newConfig(opts []Option) config {
	c := config{
		next:         http.DefaultTransport,
		refreshAhead: DefaultRefreshAhead,
		fetchTimeout: DefaultFetchTimeout,
		minBackoff:   DefaultMinBackoff,
		maxBackoff:   DefaultMaxBackoff,
		now:          time.Now,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.next == nil {
		c.next = http.DefaultTransport
	}
	return c
}

// WithBase sets the RoundTripper that sends the authorized requests.
// Optional; nil means http.DefaultTransport.
func WithBase(next http.RoundTripper) Option {
	return func(c *config) { c.next = next }
}

// WithAPIKey sets the X-Api-Key value sent with every request. Optional; by
// default it is the Authorizer's ClientInfo().APIKey when the Authorizer is a
// ClientInfoer.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithLogger sets a logger for lifecycle events. Optional; nothing is logged
// by default. Log records never carry a secret or a token.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHook sets a function called for every lifecycle Event. Optional. It is
// called synchronously from the goroutine that caused the event and must
// return quickly.
func WithHook(h func(Event)) Option {
	return func(c *config) { c.hook = h }
}

// WithRefreshAhead sets the most time before expiry at which a background
// refresh starts: min(d, lifetime/2), less a little jitter. Optional;
// default DefaultRefreshAhead. Zero disables refresh ahead.
func WithRefreshAhead(d time.Duration) Option {
	return func(c *config) { c.refreshAhead = max(d, 0) }
}

// WithFetchTimeout bounds each token request the Transport makes. Optional;
// default DefaultFetchTimeout.
func WithFetchTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.fetchTimeout = d
		}
	}
}

// WithBackoff sets the bounds of the exponential backoff (full jitter)
// after a failed token request. Optional; default DefaultMinBackoff to
// DefaultMaxBackoff. A server's Retry-After overrides it.
func WithBackoff(minWait, maxWait time.Duration) Option {
	return func(c *config) {
		if minWait > 0 && maxWait >= minWait {
			c.minBackoff, c.maxBackoff = minWait, maxWait
		}
	}
}

// WithAllowedHosts lists further hosts (host or host:port, case-insensitive)
// that may receive credentials when a redirect leads there. Optional; by
// default credentials follow a redirect only to the same host, and never
// from https to http.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *config) {
		if c.allowedHosts == nil {
			c.allowedHosts = make(map[string]bool, len(hosts))
		}
		for _, h := range hosts {
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
// CacheLocker, token requests are made under its lock, so that the sharers
// of one cache make one token request per token lifetime. Optional.
func WithCache(cache TokenCache, key string) Option {
	return func(c *config) { c.cache, c.cacheKey = cache, key }
}

// withClock replaces time.Now, for tests.
func withClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}
