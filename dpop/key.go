package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/seed-d44eba79/authorizer"
)

// Algorithms a Key signs with.
const (
	ES256 = "ES256" // ECDSA P-256 with SHA-256, the default
	EdDSA = "EdDSA" // Ed25519
)

// Key is a DPoP proof key: a private key of ECDSA P-256 (ES256) or Ed25519
// (EdDSA). A Key is immutable and safe for concurrent use by multiple
// goroutines (the signer given to [NewKey] must be too; the standard
// library's keys are).
type Key struct {
	// *keyParts, not the fields themselves: printing a Key value (a struct
	// field of type Key) shows a pointer, never the private key.
	*keyParts
}

// keyParts is what a Key holds.
type keyParts struct {
	signer crypto.Signer
	ec     *ecdsa.PrivateKey // set when signer is one: signed without ASN.1
	alg    string
	jwk    string // the public JWK, members in RFC 7638 order
	jkt    string // RFC 7638 SHA-256 thumbprint, base64url
	head   string // base64url of the proof's JOSE header
}

// GenerateKey returns a new ES256 Key.
func GenerateKey() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop: generating a key: %w", err)
	}
	return NewKey(priv)
}

// NewKey returns a Key that signs with s: an *ecdsa.PrivateKey on P-256,
// an ed25519.PrivateKey, or any crypto.Signer (a hardware key) whose
// public key is one of those. Any other key is an
// *[authorizer.InvalidConfigError].
func NewKey(s crypto.Signer) (*Key, error) {
	if s == nil {
		return nil, keyError("is nil")
	}
	k := &Key{&keyParts{signer: s}}
	switch pub := s.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, keyError("is an ECDSA key on a curve other than P-256")
		}
		k.alg = ES256
		k.ec, _ = s.(*ecdsa.PrivateKey)
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return nil, keyError("is not a valid Ed25519 key")
		}
		k.alg = EdDSA
	default:
		return nil, keyError(fmt.Sprintf("has type %T; DPoP keys are ECDSA P-256 or Ed25519", s))
	}
	jwk, err := publicJWK(s.Public())
	if err != nil {
		return nil, keyError(err.Error())
	}
	k.jwk = jwk
	sum := sha256.Sum256([]byte(jwk))
	k.jkt = base64.RawURLEncoding.EncodeToString(sum[:])
	k.head = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"` + ProofType + `","alg":"` + k.alg + `","jwk":` + jwk + `}`))
	return k, nil
}

func keyError(problem string) error {
	return &authorizer.InvalidConfigError{Setting: "dpop: key", Problem: problem}
}

// Algorithm is "ES256" or "EdDSA" ("" for a nil or zero Key).
func (k *Key) Algorithm() string {
	if !k.usable() {
		return ""
	}
	return k.alg
}

// usable reports whether k was made by NewKey (not nil, not a zero Key).
func (k *Key) usable() bool { return k != nil && k.keyParts != nil }

// Thumbprint is the key's RFC 7638 SHA-256 thumbprint, base64url: the
// "jkt" of the cnf claim of a token bound to it, and of dpop_jkt ("" for a
// nil or zero Key).
func (k *Key) Thumbprint() string {
	if !k.usable() {
		return ""
	}
	return k.jkt
}

// PublicJWK is the public key as a JSON Web Key (its required members).
func (k *Key) PublicJWK() string {
	if !k.usable() {
		return ""
	}
	return k.jwk
}

// Public is the public key (nil for a nil or zero Key).
func (k *Key) Public() crypto.PublicKey {
	if !k.usable() {
		return nil
	}
	return k.signer.Public()
}

// Equal reports whether k and o have the same public key.
func (k *Key) Equal(o *Key) bool {
	return k.usable() && o.usable() && k.jkt == o.jkt
}

// MarshalBinary returns the private key, PKCS #8 DER, for a token cache that
// keeps the key beside the refresh token bound to it; it is a secret. A Key
// whose signer is not an *ecdsa.PrivateKey or ed25519.PrivateKey (a
// hardware key) cannot leave its signer: that is an error.
func (k *Key) MarshalBinary() ([]byte, error) {
	if !k.usable() {
		return nil, errors.New("dpop: the key is nil or a zero Key")
	}
	switch s := k.signer.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
		return x509.MarshalPKCS8PrivateKey(s)
	}
	return nil, errors.New("dpop: the key's signer cannot be exported")
}

// ParseKey reads a key written by [Key.MarshalBinary].
func ParseKey(der []byte) (*Key, error) {
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("dpop: not a PKCS #8 private key")
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, errors.New("dpop: not a signing key")
	}
	return NewKey(s)
}

// String shows the algorithm and thumbprint, never the private key.
func (k *Key) String() string {
	if !k.usable() {
		return "dpop.Key(nil)"
	}
	return "dpop.Key{" + k.alg + " jkt=" + k.jkt + "}"
}

// GoString is String, so that %#v shows no private key either.
func (k *Key) GoString() string { return k.String() }

// LogValue is what slog logs: the algorithm and thumbprint.
func (k *Key) LogValue() slog.Value {
	if !k.usable() {
		return slog.StringValue("dpop.Key(nil)")
	}
	return slog.GroupValue(slog.String("alg", k.alg), slog.String("jkt", k.jkt))
}

// MarshalJSON is the algorithm, thumbprint and public JWK, never the
// private key.
func (k *Key) MarshalJSON() ([]byte, error) {
	if !k.usable() {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Alg string          `json:"alg"`
		JKT string          `json:"jkt"`
		JWK json.RawMessage `json:"jwk"`
	}{k.alg, k.jkt, json.RawMessage(k.jwk)})
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public key (ECDSA
// P-256, P-384, P-521, Ed25519, RSA), base64url.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	jwk, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// publicJWK is pub's required JWK members, lexicographically ordered and
// without whitespace: the RFC 7638 thumbprint input, and a valid JWK.
func publicJWK(pub crypto.PublicKey) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, err := p.Bytes() // uncompressed point: 0x04 || X || Y
		if err != nil || len(raw) != 1+2*size {
			return "", errors.New("dpop: not a valid ECDSA public key")
		}
		return `{"crv":"` + p.Curve.Params().Name + `","kty":"EC","x":"` + b64(raw[1:1+size]) +
			`","y":"` + b64(raw[1+size:]) + `"}`, nil
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", errors.New("dpop: not a valid Ed25519 public key")
		}
		return `{"crv":"Ed25519","kty":"OKP","x":"` + b64(p) + `"}`, nil
	case *rsa.PublicKey:
		return `{"e":"` + b64(big.NewInt(int64(p.E)).Bytes()) + `","kty":"RSA","n":"` + b64(p.N.Bytes()) + `"}`, nil
	}
	return "", fmt.Errorf("dpop: public key type %T is not supported", pub)
}
