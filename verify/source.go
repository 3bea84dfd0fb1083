package verify

import (
	"context"
	"crypto"
	"log/slog"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// KeySource supplies the keys a [Verifier] checks signatures with. Get one
// from [StaticKeys], [ParsePEM] or [ParseJWKS] (fixed keys), or from
// [JWKS], [Discover] or [PEMURL] (keys fetched from a URL, refreshed as
// described in the package doc). All are safe for concurrent use; one
// source may serve several Verifiers.
//
// Close stops a remote source: it cancels a fetch in progress, waits for
// its goroutine to end, and makes later verifications that need keys fail
// with an error wrapping [authorizer.ErrClosed]. A remote source starts no
// goroutine until a verification needs keys, and none outlives a fetch. For
// fixed keys Close does nothing. Close may be called more than once.
//
// Only this package implements KeySource (its other methods are
// unexported), so every source follows the rules above.
type KeySource interface {
	Close() error

	// init applies the Verifier's clock (a source built without WithClock
	// follows the Verifier's) and reports a construction error.
	init(now func() time.Time) error
	// current returns the key set, fetching it when there is none yet.
	current(ctx context.Context) (*keySet, error)
	// missing is called when seen has no key for kid (or, with kid "",
	// when no kid-less key verified). It returns a newer set, fetching one
	// when the refresh rules allow, or seen with the reason it did not.
	missing(ctx context.Context, kid string, seen *keySet) (*keySet, error)
	// tick lets a remote source start a due background refresh.
	tick(now time.Time)
}

// staticSource is a fixed key set.
type staticSource struct {
	set *keySet
	err error
}

var _ KeySource = (*staticSource)(nil)

// StaticKeys returns a [KeySource] of fixed public keys: *rsa.PublicKey
// (2048 to 8192 bits; RS256 tokens), *ecdsa.PublicKey (P-256, P-384,
// P-521; ES256, ES384, ES512) and ed25519.PublicKey (EdDSA). The keys have
// no kid, so they are tried for every token, whatever its kid, at most the
// first four that fit its algorithm. A key of another type or size makes
// [New] fail with an *[authorizer.InvalidConfigError].
func StaticKeys(keys ...crypto.PublicKey) KeySource {
	ks := &keySet{}
	for _, pub := range keys {
		k, err := newKey("", "", pub)
		if err != nil {
			return &staticSource{err: &authorizer.InvalidConfigError{Setting: "verify.StaticKeys", Problem: err.Error()}}
		}
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return &staticSource{err: &authorizer.InvalidConfigError{Setting: "verify.StaticKeys", Problem: "was given no key"}}
	}
	return &staticSource{set: ks}
}

// ParsePEM returns a [KeySource] of the public keys in PEM data ("PUBLIC
// KEY", "RSA PUBLIC KEY" or "CERTIFICATE" blocks), as [StaticKeys] does.
// Anything else, a private key in particular, is an error. In a
// certificate chain (a leaf, then its issuers) only the leaf's key verifies
// tokens; separate self-signed certificates all count.
func ParsePEM(data []byte) (KeySource, error) {
	ks, err := parsePEMKeys(data)
	if err != nil {
		return nil, err
	}
	return &staticSource{set: ks}, nil
}

// ParseJWKS returns a [KeySource] of the keys of an RFC 7517 JSON Web Key
// Set document. Keys this package cannot use (another type or curve, RSA
// under 2048 bits, "use": "enc", private keys) are skipped; a document
// with no usable key is an error.
func ParseJWKS(doc []byte) (KeySource, error) {
	ks, err := parseJWKS(doc, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return &staticSource{set: ks}, nil
}

func (s *staticSource) Close() error                { return nil }
func (s *staticSource) init(func() time.Time) error { return s.err }
func (s *staticSource) tick(time.Time)              {}
func (s *staticSource) current(context.Context) (*keySet, error) {
	return s.set, nil
}
func (s *staticSource) missing(_ context.Context, _ string, seen *keySet) (*keySet, error) {
	return seen, nil
}
