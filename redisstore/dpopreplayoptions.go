package redisstore

import (
	"log/slog"
	"strings"
	"time"
)

// Defaults of a [DPoPReplayStore].
const (
	// DefaultDPoPReplayPrefix starts every Redis key a DPoPReplayStore
	// writes; it differs from [DefaultPrefix] and [DefaultSessionPrefix],
	// so the three stores share a Redis without meeting.
	DefaultDPoPReplayPrefix = "authorizer:dpop:"
	// DefaultDPoPReplayMargin is kept past the time a proof's entry may be
	// forgotten before its Redis key expires: it covers clocks of the
	// replicas and of Redis that disagree by up to that much (the Verifier
	// judges a proof's age by its own clock, Redis expires by its own).
	DefaultDPoPReplayMargin = 30 * time.Second
)

// DPoPReplayOption configures a [DPoPReplayStore]. The [Option]s of a
// [Store] and the [SessionOption]s of a [SessionStore] are other types:
// they cannot reach [NewDPoPReplayStore].
type DPoPReplayOption func(*dpopReplayConfig) error

type dpopReplayConfig struct {
	prefix          string
	margin          time.Duration
	callTimeout     time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	logger          *slog.Logger
	now             func() time.Time
}

func newDPoPReplayConfig(opts []DPoPReplayOption) (dpopReplayConfig, error) {
	c := dpopReplayConfig{prefix: DefaultDPoPReplayPrefix, margin: DefaultDPoPReplayMargin,
		callTimeout: DefaultCallTimeout, breakerFailures: DefaultBreakerFailures,
		breakerCooldown: DefaultBreakerCooldown, now: time.Now}
	for _, o := range opts {
		if o == nil {
			return dpopReplayConfig{}, invalid("NewDPoPReplayStore option", "is nil")
		}
		if err := o(&c); err != nil {
			return dpopReplayConfig{}, err
		}
	}
	return c, nil
}

// WithDPoPReplayPrefix sets the start of every Redis key the
// DPoPReplayStore writes; services that must not share their record of
// proofs give different prefixes. Optional; default
// [DefaultDPoPReplayPrefix]. An empty prefix, one containing '{' or '}',
// or one equal to [DefaultPrefix] or [DefaultSessionPrefix] is an
// [*authorizer.InvalidConfigError].
func WithDPoPReplayPrefix(p string) DPoPReplayOption {
	return func(c *dpopReplayConfig) error {
		if p == "" || strings.ContainsAny(p, "{}") || p == DefaultPrefix || p == DefaultSessionPrefix {
			return invalid("WithDPoPReplayPrefix", "must be non-empty, contain no '{' or '}', and differ from DefaultPrefix and DefaultSessionPrefix")
		}
		c.prefix = p
		return nil
	}
}

// WithDPoPReplayMargin sets how long a proof's Redis key outlives the time
// the Verifier said it may be forgotten. Set it above the largest clock
// difference between the replicas and Redis. Optional; default
// [DefaultDPoPReplayMargin]; negative is an [*authorizer.InvalidConfigError].
func WithDPoPReplayMargin(d time.Duration) DPoPReplayOption {
	return func(c *dpopReplayConfig) error {
		if d < 0 {
			return invalid("WithDPoPReplayMargin", "must not be negative")
		}
		c.margin = d
		return nil
	}
}

// WithDPoPReplayCallTimeout bounds each Redis call of the DPoPReplayStore.
// Keep it below [verify.DPoPReplayStoreTimeout] (1 s), so that the store's
// own deadline ends a call to a paused Redis and counts against the
// breaker. Optional; default [DefaultCallTimeout]; zero or negative is an
// [*authorizer.InvalidConfigError].
func WithDPoPReplayCallTimeout(d time.Duration) DPoPReplayOption {
	return func(c *dpopReplayConfig) error {
		return positive("WithDPoPReplayCallTimeout", d, func() { c.callTimeout = d })
	}
}

// WithDPoPReplayBreaker sets the DPoPReplayStore's circuit breaker, as
// [WithBreaker] does a Store's: while it is open every proof is refused at
// once (fail closed, 503) without a call to Redis. Optional; default
// DefaultBreakerFailures and DefaultBreakerCooldown; failures < 1 or
// cooldown <= 0 is an [*authorizer.InvalidConfigError].
func WithDPoPReplayBreaker(failures int, cooldown time.Duration) DPoPReplayOption {
	return func(c *dpopReplayConfig) error {
		if failures < 1 || cooldown <= 0 {
			return invalid("WithDPoPReplayBreaker", "needs failures >= 1 and a positive cooldown")
		}
		c.breakerFailures, c.breakerCooldown = failures, cooldown
		return nil
	}
}

// WithDPoPReplayLogger sets a logger for Redis failures and circuit
// breaker changes. Optional; nil (the default) logs nothing. Records never
// carry a key, a jti or a token.
func WithDPoPReplayLogger(l *slog.Logger) DPoPReplayOption {
	return func(c *dpopReplayConfig) error { c.logger = l; return nil }
}
