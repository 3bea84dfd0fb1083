package redisstore

import (
	"log/slog"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// Defaults of a Store. Each has an option.
const (
	// DefaultPrefix starts every Redis key a Store writes.
	DefaultPrefix = "authorizer:token:"
	// DefaultLeaseTTL is how long a lease lasts unless its holder renews
	// it: a live holder renews it every third of the TTL for as long as
	// its token request runs, so a dead holder's lease is taken over
	// within DefaultLeaseTTL. It is shorter than the 2 s a base.Transport
	// waits for a lock, so that waiters take over a dead holder's lease
	// instead of each requesting its own token.
	DefaultLeaseTTL = 1500 * time.Millisecond
	// DefaultMaxHold caps how long a lease is renewed when its holder
	// never calls unlock (a forgotten call, a panic without defer): then
	// the renewal stops and the lease expires within the lease TTL. It is
	// well above base's default fetch timeout (30 s).
	DefaultMaxHold = 2 * time.Minute
	// DefaultMaxWait caps how long Lock waits for another replica's lease
	// before the caller goes ahead alone.
	DefaultMaxWait = 10 * time.Second
	// DefaultCallTimeout bounds every Redis call. A healthy Redis on the
	// same network answers in about a millisecond; a paused one never
	// does.
	DefaultCallTimeout = 250 * time.Millisecond
	// DefaultBreakerFailures consecutive failed calls open the circuit
	// breaker for DefaultBreakerCooldown, during which no call reaches
	// Redis.
	DefaultBreakerFailures = 2
	DefaultBreakerCooldown = 2 * time.Second
	// DefaultTTLMargin is kept past a token's expiry before its Redis key
	// expires.
	DefaultTTLMargin = time.Minute
	// DefaultNoExpiryTTL is the TTL of a token without an expiry.
	DefaultNoExpiryTTL = time.Hour
)

// fenceTTL keeps a key's fencing counter; every lease renews it.
const fenceTTL = 24 * time.Hour

// Option configures a Store.
type Option func(*config) error

type config struct {
	prefix          string
	olderKeys       [][]byte
	leaseTTL        time.Duration
	maxWait         time.Duration
	maxHold         time.Duration
	callTimeout     time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	ttlMargin       time.Duration
	noExpiryTTL     time.Duration
	logger          *slog.Logger
	now             func() time.Time
}

func newConfig(opts []Option) (config, error) {
	c := config{prefix: DefaultPrefix, leaseTTL: DefaultLeaseTTL, maxWait: DefaultMaxWait, maxHold: DefaultMaxHold,
		callTimeout: DefaultCallTimeout, breakerFailures: DefaultBreakerFailures,
		breakerCooldown: DefaultBreakerCooldown, ttlMargin: DefaultTTLMargin,
		noExpiryTTL: DefaultNoExpiryTTL, now: time.Now}
	for _, o := range opts {
		if o == nil {
			return config{}, invalid("New option", "is nil")
		}
		if err := o(&c); err != nil {
			return config{}, err
		}
	}
	return c, nil
}

func invalid(setting, problem string) error {
	return &authorizer.InvalidConfigError{Setting: "redisstore: " + setting, Problem: problem}
}

func positive(setting string, d time.Duration, set func()) error {
	if d <= 0 {
		return invalid(setting, "must be positive")
	}
	set()
	return nil
}

// WithPrefix sets the start of every Redis key the Store writes, so that
// stores of different applications on one Redis never meet. Optional;
// default DefaultPrefix. An empty prefix is an
// [*authorizer.InvalidConfigError], and so is one containing '{' or '}'
// (the Store adds its own hash tag).
func WithPrefix(p string) Option {
	return func(c *config) error {
		if p == "" || strings.ContainsAny(p, "{}") {
			return invalid("WithPrefix", "must be non-empty and contain no '{' or '}'")
		}
		c.prefix = p
		return nil
	}
}

// WithOlderKeys adds keys that tokens sealed earlier may be sealed with,
// for key rotation: Load opens a value with any key of the ring, Store
// always seals with the key given to [New]. Each must be 32 bytes
// (AES-256); any other length is an [*authorizer.InvalidConfigError].
// Optional; none by default.
func WithOlderKeys(keys ...[]byte) Option {
	return func(c *config) error {
		for _, k := range keys {
			if len(k) != keyLen {
				return invalid("WithOlderKeys", "needs 32-byte keys")
			}
			c.olderKeys = append(c.olderKeys, append([]byte(nil), k...))
		}
		return nil
	}
}

// WithLeaseTTL sets how long a lease lasts unless renewed: its holder
// renews it every d/3 while its token request runs, and a dead holder's
// lease is taken over by a waiting replica within d. If a live holder
// cannot renew (Redis paused longer than d), another replica may take the
// lease too; the fencing counter still keeps the late holder from
// overwriting the newer token. Optional; default DefaultLeaseTTL; under
// 30 ms is an [*authorizer.InvalidConfigError].
func WithLeaseTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < 30*time.Millisecond {
			return invalid("WithLeaseTTL", "must be at least 30ms")
		}
		c.leaseTTL = d
		return nil
	}
}

// WithMaxHold caps how long a lease is kept alive for a holder that never
// calls unlock; after it the renewal goroutine ends and the lease expires
// within the lease TTL, so other replicas take over. Set it above the
// longest token request (base's fetch timeout). Optional; default
// DefaultMaxHold; zero or negative is an [*authorizer.InvalidConfigError].
func WithMaxHold(d time.Duration) Option {
	return func(c *config) error { return positive("WithMaxHold", d, func() { c.maxHold = d }) }
}

// WithMaxWait caps how long Lock waits while another replica holds the
// lease; then the caller goes ahead without it (and requests its own
// token). Lock also stops waiting shortly (a tenth of the time left)
// before its context's deadline. Optional; default DefaultMaxWait; zero or negative is an
// [*authorizer.InvalidConfigError].
func WithMaxWait(d time.Duration) Option {
	return func(c *config) error { return positive("WithMaxWait", d, func() { c.maxWait = d }) }
}

// WithCallTimeout bounds each Redis call. Optional; default
// DefaultCallTimeout; zero or negative is an
// [*authorizer.InvalidConfigError].
func WithCallTimeout(d time.Duration) Option {
	return func(c *config) error { return positive("WithCallTimeout", d, func() { c.callTimeout = d }) }
}

// WithBreaker sets the circuit breaker: after failures consecutive failed
// Redis calls, no call is made for cooldown; then one call probes Redis
// and closes the breaker when it succeeds. Optional; default
// DefaultBreakerFailures and DefaultBreakerCooldown; failures < 1 or
// cooldown <= 0 is an [*authorizer.InvalidConfigError].
func WithBreaker(failures int, cooldown time.Duration) Option {
	return func(c *config) error {
		if failures < 1 || cooldown <= 0 {
			return invalid("WithBreaker", "needs failures >= 1 and a positive cooldown")
		}
		c.breakerFailures, c.breakerCooldown = failures, cooldown
		return nil
	}
}

// WithTTLMargin sets how long a token's Redis key outlives the token's
// expiry. Optional; default DefaultTTLMargin; negative is an
// [*authorizer.InvalidConfigError].
func WithTTLMargin(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalid("WithTTLMargin", "must not be negative")
		}
		c.ttlMargin = d
		return nil
	}
}

// WithLogger sets a logger for Redis failures and circuit breaker changes.
// Optional; nil (the default) logs nothing. Records never carry a token,
// a key or a secret.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}
