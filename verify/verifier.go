package verify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Expect says which tokens a [Verifier] accepts.
type Expect struct {
	// Issuer must equal the token's iss exactly. Required, unless
	// [InsecureSkipIssuerCheck] or [Cognito] (which sets it) is given.
	Issuer string
	// Audience: the token's aud must hold at least one of these. Required,
	// unless [InsecureSkipAudienceCheck] or [Cognito] (which checks the
	// client ids instead) is given.
	Audience []string
}

// Verifier checks received tokens: compact JWS (RFC 7515) JWTs (RFC 7519)
// signed with a key of its [KeySource]. It is safe for concurrent use by
// any number of goroutines and holds no goroutine of its own.
type Verifier struct {
	keys   KeySource
	owned  bool // New created keys (Cognito) and Close closes them
	want   Expect
	cfg    config
	cache  *tokenCache
	warned atomic.Bool  // the no-exp warning was logged
	replay *replayCache // jti of accepted DPoP proofs
	nonces *nonceSource // nil unless WithDPoPNonces
}

// New returns a Verifier of tokens signed by keys and meeting want. With no
// options it is strict: see the package doc for every rule. An invalid
// Expect or option, or a key source that was built with an invalid URL or
// option, is an *[authorizer.InvalidConfigError]. New makes no request:
// a remote key source fetches on the first Verify.
//
// keys may be nil only with the [Cognito] option, which then fetches the
// user pool's JWKS; [Verifier.Close] closes that source. A source passed
// in is the caller's to close.
func New(keys KeySource, want Expect, opts ...Option) (*Verifier, error) {
	v := &Verifier{keys: keys, want: want, cfg: defaultConfig()}
	var own, sourceOpts []Option
	for _, o := range opts {
		if o.kind&forSource != 0 {
			sourceOpts = append(sourceOpts, o)
		}
		if o.kind&forVerifier != 0 || o.apply == nil {
			own = append(own, o)
		}
	}
	if err := applyOptions(&v.cfg, forVerifier, "verify.New", own); err != nil {
		return nil, err
	}
	if v.cfg.cognito == nil || keys != nil {
		for _, o := range sourceOpts {
			if o.kind == forSource {
				return nil, &authorizer.InvalidConfigError{Setting: "verify." + o.name, Problem: "is an option of the key source (JWKS, Discover, PEMURL), not of verify.New"}
			}
		}
	}
	if v.cfg.cognito != nil {
		if err := v.cfg.cognito.setUp(v, sourceOpts); err != nil {
			return nil, err
		}
	}
	if err := v.check(); err != nil {
		return nil, err
	}
	if err := v.keys.init(v.cfg.now); err != nil {
		return nil, err
	}
	v.cache = newTokenCache(v.cfg.cacheSize)
	v.replay = newReplayCache(v.cfg.dpopReplaySize)
	v.nonces = v.cfg.nonces
	v.want.Audience = slices.Clone(v.want.Audience)
	return v, nil
}

func (v *Verifier) check() error {
	bad := func(setting, problem string) error {
		return &authorizer.InvalidConfigError{Setting: setting, Problem: problem}
	}
	switch {
	case v.keys == nil:
		return bad("verify.New keys", "is nil")
	case v.want.Issuer == "" && !v.cfg.skipIssuer:
		return bad("verify.Expect.Issuer", "is empty (InsecureSkipIssuerCheck accepts any issuer)")
	case len(v.want.Audience) == 0 && !v.cfg.skipAudience && v.cfg.cognito == nil:
		return bad("verify.Expect.Audience", "is empty (InsecureSkipAudienceCheck accepts any audience)")
	case slices.Contains(v.want.Audience, ""):
		return bad("verify.Expect.Audience", "holds an empty string")
	}
	return nil
}

// Close closes the key source that New created (with [Cognito] and nil
// keys); a key source passed to New is left open. It returns nil.
func (v *Verifier) Close() error {
	if v.owned {
		return v.keys.Close()
	}
	return nil
}

// Verify checks raw, a compact JWS without any "Bearer " prefix, and
// returns its claims. ctx bounds the wait for keys when they must be
// fetched; a fetch shared with other callers goes on when ctx ends.
//
// A refused token gives an *[authorizer.InvalidTokenError] (errors.Is with
// [authorizer.ErrTokenExpired] and the other reason sentinels); keys that
// cannot be fetched at all give an *[authorizer.AuthorizationError] whose
// Temporary method says whether retrying can help; an ended ctx gives an
// error wrapping ctx.Err(); a nil ctx, an *[authorizer.InvalidConfigError].
// The returned Claims may be shared with other
// callers: do not modify them.
//
// Verify is for bearer tokens: a token bound to a key (a cnf.jkt claim,
// RFC 9449 §6) is refused with [authorizer.ErrTokenDPoPBinding], since
// whoever holds a copy could use it without the key; it is accepted only
// with its DPoP proof, by [Verifier.VerifyDPoP]. So is a token bound to a
// client certificate (cnf x5t#S256, RFC 8705), which only [Middleware]
// can check against the connection, and one bound by any other
// confirmation method.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if ctx == nil {
		return nil, &authorizer.InvalidConfigError{Setting: "verify.Verifier.Verify", Problem: "ctx is nil"}
	}
	return v.verifyBearer(ctx, raw, nil)
}

// verifyBearer checks raw presented as a bearer token over a connection
// whose client certificate is cert (nil for none); ctx is not nil.
func (v *Verifier) verifyBearer(ctx context.Context, raw string, cert *x509.Certificate) (*Claims, error) {
	c, err := v.verifyToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	switch {
	case c.KeyThumbprint != "":
		return nil, invalid(authorizer.TokenDPoPBinding, "the token is bound to a key (cnf.jkt) but was presented as a bearer token")
	case c.otherBinding:
		return nil, invalid(authorizer.TokenDPoPBinding, "the token is bound by a confirmation method (cnf) this verifier does not check")
	case c.CertificateThumbprint != "" && !certificateMatches(cert, c.CertificateThumbprint):
		return nil, invalid(authorizer.TokenDPoPBinding, "the token is bound to a client certificate (cnf x5t#S256) the request did not present")
	}
	return c, nil
}

// certificateMatches reports whether cert's SHA-256 thumbprint is x5t
// (RFC 8705 §3.1), compared in constant time.
func certificateMatches(cert *x509.Certificate, x5t string) bool {
	if cert == nil {
		return false
	}
	sum := sha256.Sum256(cert.Raw)
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(x5t)) == 1
}

// verifyToken checks raw whatever its binding; ctx is not nil.
func (v *Verifier) verifyToken(ctx context.Context, raw string) (*Claims, error) {
	now := v.cfg.now()
	if c := v.cache.get(raw, now); c != nil {
		v.keys.tick(now)
		return c, nil
	}
	t, err := parseJWS(raw)
	if err != nil {
		return nil, err
	}
	k, err := v.verifySignature(ctx, &t)
	if err != nil {
		return nil, err
	}
	c, err := parseClaims(t.payload)
	if err != nil {
		return nil, malformed("token claims: " + err.Error())
	}
	if err := v.checkClaims(c, now); err != nil {
		return nil, err
	}
	v.keys.tick(now)
	v.cache.put(raw, c, k, now)
	return c, nil
}

// verifySignature finds the token's key and checks the signature. When the
// held keys cannot verify it, the key source may refresh once.
func (v *Verifier) verifySignature(ctx context.Context, t *jws) (*key, error) {
	set, err := v.keys.current(ctx)
	if err != nil {
		return nil, err
	}
	k, err := verifyWith(set, t)
	if err == nil {
		return k, nil
	}
	// A refresh can help when no key has the kid, and when the signature
	// fails: the key may have been replaced, under the same kid (some
	// providers keep it across restarts) or without kid (a PEM key).
	unknown := errors.Is(err, authorizer.ErrTokenUnknownKey)
	if !unknown && !errors.Is(err, authorizer.ErrTokenSignature) {
		return nil, err
	}
	kid := t.kid
	if !unknown {
		kid = "" // not remembered as unknown: the kid is known
	}
	newer, ferr := v.keys.missing(ctx, kid, set)
	if newer == nil || newer == set {
		if ferr != nil && unknown {
			err = &authorizer.InvalidTokenError{Reason: authorizer.TokenUnknownKey, Detail: "no key has the token's kid, and the keys could not be refreshed", Err: ferr}
		}
		return nil, err
	}
	return verifyWith(newer, t)
}

// verifyWith checks t against the keys of set that may have signed it:
// those with its kid; failing that, those without kid; for a token without
// kid, any key. At most maxNoKidTries keys are tried.
func verifyWith(set *keySet, t *jws) (*key, error) {
	pool := byKidOnly(set, t.kid)
	named, tried := false, 0
	for _, c := range set.keys {
		if pool && c.kid != t.kid || !pool && t.kid != "" && c.kid != "" {
			continue
		}
		named = true
		if !c.fits(t.alg) {
			continue
		}
		if c.verify(t.alg, t.input, t.sig) {
			return c, nil
		}
		if tried++; tried == maxNoKidTries {
			break
		}
	}
	switch {
	case tried > 0:
		return nil, invalid(authorizer.TokenSignature, "signature does not verify")
	case named:
		return nil, invalid(authorizer.TokenAlgorithm, "alg does not fit the key")
	}
	return nil, invalid(authorizer.TokenUnknownKey, "no key has the token's kid")
}

// byKidOnly reports whether set has a key whose kid is kid (non-empty).
func byKidOnly(set *keySet, kid string) bool {
	if kid == "" {
		return false
	}
	for _, k := range set.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

func (v *Verifier) checkClaims(c *Claims, now time.Time) error {
	switch {
	case c.Expiry.IsZero() && !v.cfg.allowNoExpiry:
		return invalid(authorizer.TokenExpired, "token has no exp")
	case c.Expiry.IsZero():
		if !v.warned.Swap(true) {
			v.cfg.logger.Warn("verify: accepted a token without exp (InsecureAllowNoExpiry)")
		}
	case !now.Before(c.Expiry.Add(v.cfg.expiryLeeway)):
		return invalid(authorizer.TokenExpired, "exp is past, beyond the leeway")
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(v.cfg.notBeforeLeeway)) {
		return invalid(authorizer.TokenNotYetValid, "nbf is in the future, beyond the leeway")
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(v.cfg.notBeforeLeeway)) {
		return invalid(authorizer.TokenNotYetValid, "iat is in the future, beyond the leeway")
	}
	if !v.cfg.skipIssuer && c.Issuer != v.want.Issuer {
		return invalid(authorizer.TokenIssuer, "iss is missing or not the expected issuer")
	}
	if v.cfg.cognito != nil {
		return v.cfg.cognito.check(c)
	}
	if !v.cfg.skipAudience && !anyIn(c.Audience, v.want.Audience) {
		return invalid(authorizer.TokenAudience, "aud is missing or holds no expected audience")
	}
	return nil
}

func invalid(r authorizer.TokenReason, detail string) error {
	return &authorizer.InvalidTokenError{Reason: r, Detail: detail}
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}
