package verify

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Defaults. Each has an option.
const (
	// DefaultExpiryLeeway is how far past exp a token is still accepted,
	// for clock skew between issuer and receiver.
	DefaultExpiryLeeway = 60 * time.Second
	// DefaultNotBeforeLeeway is how far in the future nbf and iat may be.
	DefaultNotBeforeLeeway = 60 * time.Second
	// DefaultCacheSize bounds the verified-token cache (entries).
	DefaultCacheSize = 10000
	// DefaultMinRefreshInterval is the shortest time between two key set
	// fetches caused by tokens naming an unknown key.
	DefaultMinRefreshInterval = 10 * time.Second
	// DefaultMinKeysAge and DefaultMaxKeysAge clamp the key set's
	// Cache-Control max-age: keys are re-fetched in the background at most
	// every 15 minutes and at least hourly. Without a max-age, keys are
	// re-fetched every DefaultMinKeysAge.
	DefaultMinKeysAge = 15 * time.Minute
	DefaultMaxKeysAge = time.Hour
	// DefaultFetchTimeout bounds one key set request.
	DefaultFetchTimeout = 10 * time.Second
	// MaxTokenSize is the largest token accepted, checked before decoding.
	MaxTokenSize = 16 << 10
	// maxKeySetSize caps a fetched key set document.
	maxKeySetSize = 1 << 20
	// maxBackoff caps the wait between fetches after failures.
	maxBackoff = 5 * time.Minute
)

// optionKind says which constructor an [Option] belongs to.
type optionKind uint8

const (
	forVerifier optionKind = 1 << iota // New
	forSource                          // JWKS, Discover, PEMURL
	forBoth     = forVerifier | forSource
)

// Option configures a [Verifier] (passed to [New]) or a remote
// [KeySource] (passed to [JWKS], [Discover] or [PEMURL]); each option's doc
// says which. An option given to the wrong constructor, or with an invalid
// value, makes [New] return an *[authorizer.InvalidConfigError] naming it.
type Option struct {
	name  string
	kind  optionKind
	apply func(*config) error
}

// config is what the options set.
type config struct {
	// Verifier settings.
	expiryLeeway, notBeforeLeeway time.Duration
	allowNoExpiry                 bool
	skipIssuer, skipAudience      bool
	cacheSize                     int
	cognito                       *cognitoRules
	// Source settings.
	client         *http.Client
	minRefresh     time.Duration
	minAge, maxAge time.Duration
	fetchTimeout   time.Duration
	insecureHTTP   bool
	// Both.
	logger *slog.Logger
	now    func() time.Time
}

func defaultConfig() config {
	return config{
		expiryLeeway:    DefaultExpiryLeeway,
		notBeforeLeeway: DefaultNotBeforeLeeway,
		cacheSize:       DefaultCacheSize,
		minRefresh:      DefaultMinRefreshInterval,
		minAge:          DefaultMinKeysAge,
		maxAge:          DefaultMaxKeysAge,
		fetchTimeout:    DefaultFetchTimeout,
		logger:          slog.New(slog.DiscardHandler),
		now:             time.Now,
	}
}

// applyOptions applies opts meant for kind; pkg names the constructor in
// errors ("verify.New").
func applyOptions(c *config, kind optionKind, pkg string, opts []Option) error {
	for _, o := range opts {
		if o.apply == nil {
			return &authorizer.InvalidConfigError{Setting: pkg, Problem: "was given a zero Option"}
		}
		if o.kind&kind == 0 {
			return &authorizer.InvalidConfigError{Setting: "verify." + o.name, Problem: "is not an option of " + pkg}
		}
		if err := o.apply(c); err != nil {
			return &authorizer.InvalidConfigError{Setting: "verify." + o.name, Problem: err.Error()}
		}
	}
	return nil
}

func nonNegative(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("is negative (%v)", d)
	}
	return nil
}

// WithExpiryLeeway sets how far past its exp a token is still accepted.
// For [New]. Optional; default [DefaultExpiryLeeway]; 0 allows no skew; a
// negative value is an error.
func WithExpiryLeeway(d time.Duration) Option {
	return Option{"WithExpiryLeeway", forVerifier, func(c *config) error {
		c.expiryLeeway = d
		return nonNegative(d)
	}}
}

// WithNotBeforeLeeway sets how far in the future a token's nbf and iat may
// be. For [New]. Optional; default [DefaultNotBeforeLeeway]; 0 allows no
// skew; a negative value is an error.
func WithNotBeforeLeeway(d time.Duration) Option {
	return Option{"WithNotBeforeLeeway", forVerifier, func(c *config) error {
		c.notBeforeLeeway = d
		return nonNegative(d)
	}}
}

// InsecureAllowNoExpiry accepts tokens without exp (legacy permission
// tokens have none); such a token stays valid until its key is removed. For
// [New]. The first such token is logged at Warn level, once per Verifier.
// A token that has an exp is still checked against it.
func InsecureAllowNoExpiry() Option {
	return Option{"InsecureAllowNoExpiry", forVerifier, func(c *config) error {
		c.allowNoExpiry = true
		return nil
	}}
}

// InsecureSkipIssuerCheck accepts tokens with any iss, or none, so
// [Expect].Issuer may be empty. For [New]; for legacy issuers that set no
// iss. Any key of the key set then vouches for any issuer.
func InsecureSkipIssuerCheck() Option {
	return Option{"InsecureSkipIssuerCheck", forVerifier, func(c *config) error {
		c.skipIssuer = true
		return nil
	}}
}

// InsecureSkipAudienceCheck accepts tokens with any aud, or none, so
// [Expect].Audience may be empty. For [New]; for legacy issuers that set no
// aud. A token meant for another service of the same issuer then passes.
func InsecureSkipAudienceCheck() Option {
	return Option{"InsecureSkipAudienceCheck", forVerifier, func(c *config) error {
		c.skipAudience = true
		return nil
	}}
}

// WithCacheSize bounds the verified-token cache. For [New]. Optional;
// default [DefaultCacheSize]; 0 turns the cache off; negative is an error.
// An entry lives until the earlier of the token's exp and the removal of
// its key from the key set; failures are never cached.
func WithCacheSize(n int) Option {
	return Option{"WithCacheSize", forVerifier, func(c *config) error {
		c.cacheSize = n
		if n < 0 {
			return fmt.Errorf("is negative (%d)", n)
		}
		return nil
	}}
}

// WithLogger sets the logger. For [New] (legacy-token warning) and for
// remote key sources (fetch failures, skipped keys). Optional; nil means
// the default, which discards. Records never hold a token.
func WithLogger(l *slog.Logger) Option {
	return Option{"WithLogger", forBoth, func(c *config) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
		return nil
	}}
}

// WithClock sets the clock, for tests. For [New] and remote key sources.
// Optional; nil means time.Now. A remote source built without WithClock
// follows the clock of the Verifier it is given to.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", forBoth, func(c *config) error {
		if now == nil {
			now = time.Now
		}
		c.now = now
		return nil
	}}
}

// WithHTTPClient sets the client that fetches keys. For remote key
// sources. Optional; nil means a client with no timeout of its own (each
// fetch is bounded by [WithFetchTimeout]). Its redirect policy is replaced:
// redirects to another host, or from https to http, are refused.
func WithHTTPClient(hc *http.Client) Option {
	return Option{"WithHTTPClient", forSource, func(c *config) error {
		c.client = hc
		return nil
	}}
}

// WithMinRefreshInterval sets the shortest time between two fetches caused
// by tokens that name an unknown key. For remote key sources. Optional;
// default [DefaultMinRefreshInterval]; it must be positive. A rotated key
// is accepted at most this long after its first token, even during a flood
// of tokens with random key ids.
func WithMinRefreshInterval(d time.Duration) Option {
	return Option{"WithMinRefreshInterval", forSource, func(c *config) error {
		c.minRefresh = d
		if d <= 0 {
			return fmt.Errorf("is not positive (%v)", d)
		}
		return nil
	}}
}

// WithKeysAge clamps how long fetched keys are used before a background
// re-fetch: the answer's Cache-Control max-age, kept within [min, max]; no
// max-age means min. For remote key sources. Optional; default
// [DefaultMinKeysAge], [DefaultMaxKeysAge]; min must be positive and not
// above max.
func WithKeysAge(min, max time.Duration) Option {
	return Option{"WithKeysAge", forSource, func(c *config) error {
		c.minAge, c.maxAge = min, max
		if min <= 0 || max < min {
			return fmt.Errorf("needs 0 < min <= max (got %v, %v)", min, max)
		}
		return nil
	}}
}

// WithFetchTimeout bounds one key request. For remote key sources.
// Optional; default [DefaultFetchTimeout]; it must be positive.
func WithFetchTimeout(d time.Duration) Option {
	return Option{"WithFetchTimeout", forSource, func(c *config) error {
		c.fetchTimeout = d
		if d <= 0 {
			return fmt.Errorf("is not positive (%v)", d)
		}
		return nil
	}}
}

// InsecureAllowHTTP lets a remote key source use plain http to a host that
// is not loopback (loopback hosts are always allowed). For remote key
// sources. Anyone on the path can then substitute keys.
func InsecureAllowHTTP() Option {
	return Option{"InsecureAllowHTTP", forSource, func(c *config) error {
		c.insecureHTTP = true
		return nil
	}}
}
