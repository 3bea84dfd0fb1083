package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
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
	// DefaultDPoPProofAge is how old a DPoP proof's iat may be.
	DefaultDPoPProofAge = 5 * time.Minute
	// DefaultDPoPReplayCacheSize bounds the DPoP replay cache (entries,
	// about 60 bytes each: about 30 MB when full). With the default proof
	// age it sustains 1 666 DPoP requests a second per Verifier, and 416
	// per client key (a key may hold a quarter of the cache).
	DefaultDPoPReplayCacheSize = 500_000
)

// defaultDPoPAlgorithms are the DPoP proof algorithms accepted by default,
// those a [dpop.Key] signs with.
var defaultDPoPAlgorithms = []string{"ES256", "EdDSA"}

// dpopAlgorithms are the algorithms [WithDPoPAlgorithms] may name.
var dpopAlgorithms = []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

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
	dpopAlgs                      []string
	dpopAge                       time.Duration
	dpopReplaySize                int
	dpopStore                     DPoPReplayStore // nil: none
	dpopStoreTimeout              time.Duration   // bounds each call of dpopStore
	nonces                        *nonceSource    // its secret in a closure: printing a Verifier shows none
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
		expiryLeeway:     DefaultExpiryLeeway,
		notBeforeLeeway:  DefaultNotBeforeLeeway,
		cacheSize:        DefaultCacheSize,
		dpopAlgs:         defaultDPoPAlgorithms,
		dpopAge:          DefaultDPoPProofAge,
		dpopReplaySize:   DefaultDPoPReplayCacheSize,
		dpopStoreTimeout: DPoPReplayStoreTimeout,
		minRefresh:       DefaultMinRefreshInterval,
		minAge:           DefaultMinKeysAge,
		maxAge:           DefaultMaxKeysAge,
		fetchTimeout:     DefaultFetchTimeout,
		logger:           slog.New(slog.DiscardHandler),
		now:              time.Now,
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

// WithDPoPAlgorithms sets the algorithms a DPoP proof may be signed with
// ([Verifier.VerifyDPoP], [Middleware]); they are also the algs of the
// DPoP challenge. For [New]. Optional; default ES256 and EdDSA (what a
// [dpop.Key] signs with). Allowed: ES256, ES384, ES512, EdDSA, RS256,
// RS384, RS512, PS256, PS384, PS512; none, HMAC or any other name, or an
// empty list, is an error. A proof's jwk must fit its alg (an RSA jwk of
// at least 2048 bits for RS/PS, the curve of ES).
func WithDPoPAlgorithms(algs ...string) Option {
	return Option{"WithDPoPAlgorithms", forVerifier, func(c *config) error {
		if len(algs) == 0 {
			return errors.New("names no algorithm")
		}
		for _, a := range algs {
			if !slices.Contains(dpopAlgorithms, a) {
				return fmt.Errorf("names %q, which is not one of %s", a, strings.Join(dpopAlgorithms, ", "))
			}
		}
		c.dpopAlgs = slices.Clone(algs)
		return nil
	}}
}

// WithDPoPProofAge sets how old a DPoP proof's iat may be; it may be
// [WithNotBeforeLeeway] ahead. It is also how long the replay cache keeps a
// proof's jti. For [New]. Optional; default [DefaultDPoPProofAge]; it must
// be positive.
func WithDPoPProofAge(d time.Duration) Option {
	return Option{"WithDPoPProofAge", forVerifier, func(c *config) error {
		c.dpopAge = d
		if d <= 0 {
			return fmt.Errorf("is not positive (%v)", d)
		}
		return nil
	}}
}

// WithDPoPReplayCacheSize bounds the cache of the jti values of accepted
// DPoP proofs, each kept for the proof age ([WithDPoPProofAge]). When it is
// full of live entries a new proof is refused with
// [authorizer.ErrDPoPReplayCacheFull] (503 from [Middleware]) rather than
// an entry forgotten; so is a new proof of a key (jkt) that holds a quarter
// of it, so that one client flooding it is refused alone. The sustained
// rate is n / proof age (per key, a quarter of that). For [New]. Optional; default
// [DefaultDPoPReplayCacheSize]; it must be positive (replay protection
// cannot be turned off). The cache is per Verifier: replicas behind a load
// balancer each keep their own, so share one with [WithDPoPReplayStore]
// (or use nonces, [WithDPoPNonces], or a short proof age) where a proof
// replayed to another replica matters.
func WithDPoPReplayCacheSize(n int) Option {
	return Option{"WithDPoPReplayCacheSize", forVerifier, func(c *config) error {
		c.dpopReplaySize = n
		if n <= 0 {
			return fmt.Errorf("is not positive (%d)", n)
		}
		return nil
	}}
}

// WithDPoPNonces makes DPoP proofs carry a nonce of this server (RFC 9449
// §9): the HMAC-SHA256 under secret of the current time slot, so nothing is
// stored and servers sharing the secret accept each other's nonces. A nonce
// is accepted in its slot and the next (between slot and twice slot after
// it was first sent). A proof without a valid nonce is refused with
// [authorizer.ErrTokenDPoPNonce]; [Middleware] then answers 401
// error="use_dpop_nonce", and it sends the current nonce in a DPoP-Nonce
// header on every response. For [New]. Optional; off by default. secret
// must be at least [MinDPoPNonceSecret] bytes (it is copied; keep it
// secret: whoever holds it can make nonces) and slot at least one second.
func WithDPoPNonces(secret []byte, slot time.Duration) Option {
	return Option{"WithDPoPNonces", forVerifier, func(c *config) error {
		switch {
		case len(secret) < MinDPoPNonceSecret:
			return fmt.Errorf("needs a secret of at least %d bytes (got %d)", MinDPoPNonceSecret, len(secret))
		case slot < time.Second:
			return fmt.Errorf("needs a slot of at least 1s (got %v)", slot)
		}
		c.nonces = newNonceSource(secret, slot)
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
