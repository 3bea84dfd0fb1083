package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
)

// Key limits.
const (
	// minRSABits is the smallest RSA modulus accepted (NIST SP 800-57).
	minRSABits = 2048
	// maxRSABits bounds verification cost per token.
	maxRSABits = 8192
	// maxKeys bounds one key set; further keys are skipped.
	maxKeys = 64
	// maxNoKidTries bounds the keys a token without kid is tried against.
	maxNoKidTries = 4
)

// key is one verification key. Keys are immutable except removed, which a
// remote source sets when a refresh no longer lists the key; cache entries
// verified with it then stop counting.
type key struct {
	kid string
	alg string // the JWK's alg, or "" when it named none
	pub crypto.PublicKey
	// removed is set once the key left its key set.
	removed atomic.Bool
}

// keySet is an immutable list of keys, swapped whole on refresh.
type keySet struct {
	keys []*key
}

// newKey checks pub and wraps it. alg is the JWK's alg or "".
func newKey(kid, alg string, pub crypto.PublicKey) (*key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N == nil || p.N.BitLen() < minRSABits || p.N.BitLen() > maxRSABits {
			return nil, fmt.Errorf("RSA key size is outside %d..%d bits", minRSABits, maxRSABits)
		}
		if p.E < 3 || p.E%2 == 0 {
			return nil, errors.New("RSA exponent is invalid")
		}
	case *ecdsa.PublicKey:
		if ecAlg(p.Curve) == "" {
			return nil, errors.New("EC curve is not supported")
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, errors.New("Ed25519 key has the wrong size")
		}
		if smallOrder(p) {
			return nil, errors.New("Ed25519 key is a small-order point")
		}
	default:
		return nil, fmt.Errorf("key type %T is not supported", pub)
	}
	k := &key{kid: kid, alg: alg, pub: pub}
	if alg != "" && !k.fits(alg) {
		return nil, errors.New("the key's alg does not fit its type")
	}
	return k, nil
}

func ecAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

// fits reports whether the token algorithm alg may be used with k: RS256
// for an RSA key unless the key names another RSA algorithm (RS384, RS512,
// PS256, PS384, PS512), the curve's ES algorithm for an EC key, EdDSA (or
// Ed25519) for an Ed25519 key.
func (k *key) fits(alg string) bool {
	if k.alg != "" && k.alg != alg && !(isEdDSA(k.alg) && isEdDSA(alg)) {
		return false
	}
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		if k.alg == "" {
			return alg == "RS256"
		}
		return hashOf(alg) != 0 && (alg[0] == 'R' || alg[0] == 'P')
	case *ecdsa.PublicKey:
		return alg == ecAlg(p.Curve)
	case ed25519.PublicKey:
		return isEdDSA(alg)
	}
	return false
}

func isEdDSA(alg string) bool { return alg == "EdDSA" || alg == "Ed25519" }

// hashOf returns the hash of an RS/PS/ES algorithm, or 0.
func hashOf(alg string) crypto.Hash {
	if len(alg) != 5 || !(alg[:2] == "RS" || alg[:2] == "PS" || alg[:2] == "ES") {
		return 0
	}
	switch alg[2:] {
	case "256":
		return crypto.SHA256
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return 0
}

// knownAlg reports whether alg is an asymmetric signature algorithm this
// package verifies. none and HMAC are never accepted.
func knownAlg(alg string) bool { return hashOf(alg) != 0 || isEdDSA(alg) }

// verify checks sig over input with k under alg, which k.fits.
func (k *key) verify(alg string, input, sig []byte) bool {
	if isEdDSA(alg) {
		return ed25519.Verify(k.pub.(ed25519.PublicKey), input, sig)
	}
	h := hashOf(alg)
	var buf [64]byte
	digest := digestInto(buf[:0], h, input)
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		if alg[0] == 'P' {
			return rsa.VerifyPSS(p, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(p, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(p, digest, r, s)
	}
	return false
}

// digestInto appends the hash of input to dst without allocating.
func digestInto(dst []byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(input)
		return append(dst, d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(input)
		return append(dst, d[:]...)
	default:
		d := sha512.Sum512(input)
		return append(dst, d[:]...)
	}
}

// equal reports whether a and b are the same key material and settings.
func (k *key) equal(o *key) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := k.pub.(equaler)
	return ok && k.kid == o.kid && k.alg == o.alg && e.Equal(o.pub)
}

// smallOrderPoints are the encodings of the Ed25519 points of order 1, 2,
// 4 and 8, the non-canonical ones included (y = p, p + 1), sign bit
// cleared: libsodium's list. With such a key, one fixed signature
// (R = identity, S = 0 for the identity) verifies every message.
var smallOrderPoints = [...][32]byte{
	{0x01}, // identity
	{},     // y = 0, order 4
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p - 1, order 2
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p + 1
}

// smallOrder reports whether the Ed25519 public key p is a small-order
// point, whatever its sign bit.
func smallOrder(p ed25519.PublicKey) bool {
	var b [32]byte
	copy(b[:], p)
	b[31] &= 0x7f
	for _, s := range smallOrderPoints {
		if b == s {
			return true
		}
	}
	return false
}
