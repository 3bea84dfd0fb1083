package permsvc

import (
	"crypto/rsa"
	"fmt"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// bad is the error of an invalid option value.
func bad(setting, problem string) error {
	return &authorizer.InvalidConfigError{Setting: "permsvc." + setting, Problem: problem}
}

// Option configures [New]. An invalid value makes New fail with an
// *[authorizer.InvalidConfigError] naming the option.
type Option func(*Service) error

// WithIssuer sets the iss claim (default [DefaultIssuer]); "" is an error.
func WithIssuer(iss string) Option {
	return func(s *Service) error {
		if iss == "" {
			return bad("WithIssuer", "is empty")
		}
		s.issuer = iss
		return nil
	}
}

// WithLifetime sets how long tokens live (default [DefaultLifetime]); it
// must be positive. To issue tokens without exp use [WithoutExpiry].
func WithLifetime(d time.Duration) Option {
	return func(s *Service) error {
		if d <= 0 {
			return bad("WithLifetime", fmt.Sprintf("is not positive (%v)", d))
		}
		s.lifetime = d
		return nil
	}
}

// WithoutExpiry issues legacy tokens with no exp claim, as dgp-oauth2 does.
func WithoutExpiry() Option {
	return func(s *Service) error { s.lifetime = 0; return nil }
}

// WithClock sets the clock for iat and exp (default time.Now; nil means
// the default).
func WithClock(now func() time.Time) Option {
	return func(s *Service) error {
		if now == nil {
			now = time.Now
		}
		s.now = now
		return nil
	}
}

// WithKey signs with k instead of a fresh key; it must be an RSA key of at
// least 2048 bits.
func WithKey(k *rsa.PrivateKey) Option {
	return func(s *Service) error {
		if k == nil || k.N.BitLen() < 2048 {
			return bad("WithKey", "needs an RSA key of at least 2048 bits")
		}
		s.key = k
		return nil
	}
}

// WithKeyID puts kid in every token's header (default: none, like dgp,
// whose PEM key has no id).
func WithKeyID(kid string) Option {
	return func(s *Service) error { s.keyID = kid; return nil }
}

// WithUser adds a user who can sign in; the ID must be new.
func WithUser(u User) Option {
	return func(s *Service) error {
		if u.ID == "" {
			return bad("WithUser", "has an empty ID")
		}
		if _, dup := s.users[u.ID]; dup {
			return bad("WithUser", fmt.Sprintf("names user %q twice", u.ID))
		}
		s.users[u.ID] = u
		return nil
	}
}

// WithSession lets the holder of token sign in as the user userID (who
// must be added with [WithUser], in any order) with Authorization: Bearer.
func WithSession(token, userID string) Option {
	return func(s *Service) error {
		if token == "" || userID == "" {
			return bad("WithSession", "has an empty token or user")
		}
		s.sessions[token] = userID
		return nil
	}
}
