package redisstore

import (
	"log/slog"
	"strings"
	"time"
)

// DefaultSessionPrefix starts every Redis key a [SessionStore] writes; it
// differs from [DefaultPrefix], so a Store and a SessionStore share a
// Redis without meeting.
const DefaultSessionPrefix = "authorizer:session:"

// SessionOption configures a [SessionStore]. The [Option]s of a [Store]
// are another type: an option of the token store cannot reach
// [NewSessionStore].
type SessionOption func(*sessionConfig) error

type sessionConfig struct {
	prefix          string
	callTimeout     time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	logger          *slog.Logger
	now             func() time.Time
}

func newSessionConfig(opts []SessionOption) (sessionConfig, error) {
	c := sessionConfig{prefix: DefaultSessionPrefix, callTimeout: DefaultCallTimeout,
		breakerFailures: DefaultBreakerFailures, breakerCooldown: DefaultBreakerCooldown, now: time.Now}
	for _, o := range opts {
		if o == nil {
			return sessionConfig{}, invalid("NewSessionStore option", "is nil")
		}
		if err := o(&c); err != nil {
			return sessionConfig{}, err
		}
	}
	return c, nil
}

// WithSessionPrefix sets the start of every Redis key the SessionStore
// writes. Optional; default DefaultSessionPrefix. An empty prefix, one
// containing '{' or '}', or one equal to the token store's
// [DefaultPrefix] is an [*authorizer.InvalidConfigError].
func WithSessionPrefix(p string) SessionOption {
	return func(c *sessionConfig) error {
		if p == "" || strings.ContainsAny(p, "{}") || p == DefaultPrefix {
			return invalid("WithSessionPrefix", "must be non-empty, contain no '{' or '}', and differ from DefaultPrefix")
		}
		c.prefix = p
		return nil
	}
}

// WithSessionCallTimeout bounds each Redis round trip of the
// SessionStore. Optional; default DefaultCallTimeout; zero or negative is
// an [*authorizer.InvalidConfigError].
func WithSessionCallTimeout(d time.Duration) SessionOption {
	return func(c *sessionConfig) error {
		return positive("WithSessionCallTimeout", d, func() { c.callTimeout = d })
	}
}

// WithSessionBreaker sets the SessionStore's circuit breaker, as
// [WithBreaker] does a Store's. Optional; default DefaultBreakerFailures
// and DefaultBreakerCooldown; failures < 1 or cooldown <= 0 is an
// [*authorizer.InvalidConfigError].
func WithSessionBreaker(failures int, cooldown time.Duration) SessionOption {
	return func(c *sessionConfig) error {
		if failures < 1 || cooldown <= 0 {
			return invalid("WithSessionBreaker", "needs failures >= 1 and a positive cooldown")
		}
		c.breakerFailures, c.breakerCooldown = failures, cooldown
		return nil
	}
}

// WithSessionLogger sets a logger for Redis failures and circuit breaker
// changes. Optional; nil (the default) logs nothing. Records never carry
// a session id, a value or a tag.
func WithSessionLogger(l *slog.Logger) SessionOption {
	return func(c *sessionConfig) error { c.logger = l; return nil }
}
