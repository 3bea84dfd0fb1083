package tokenwire

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"time"
)

// AssertionLifetime is how long a client assertion is valid: short, since
// it is made for one request.
const AssertionLifetime = 2 * time.Minute

// KeySigner makes RFC 7523 client assertions (private_key_jwt) with a
// private key: an RSA key signs RS256, an ECDSA P-256 key ES256, an Ed25519
// key EdDSA. Its Sign method fits Request.Assertion. It is safe for
// concurrent use when Key is.
type KeySigner struct {
	// Key is the client's private key. Required.
	Key crypto.Signer
	// KeyID is the "kid" header, naming the key among the client's
	// registered keys. Optional.
	KeyID string
}

// Sign returns a compact JWT with iss = sub = clientID, aud = audience (the
// token URL), a random jti, iat = now and exp = now + AssertionLifetime.
func (s KeySigner) Sign(clientID, audience string, now time.Time) (string, error) {
	alg, err := s.alg()
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	header := map[string]string{"alg": alg, "typ": "JWT"}
	if s.KeyID != "" {
		header["kid"] = s.KeyID
	}
	claims := map[string]any{"iss": clientID, "sub": clientID, "aud": audience,
		"jti": hex.EncodeToString(jti), "iat": now.Unix(), "exp": now.Add(AssertionLifetime).Unix()}
	input := segment(header) + "." + segment(claims)
	sig, err := s.sign(alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (s KeySigner) alg() (string, error) {
	switch k := s.Key.(type) {
	case *rsa.PrivateKey:
		return "RS256", nil
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize == 256 {
			return "ES256", nil
		}
	case ed25519.PrivateKey:
		return "EdDSA", nil
	}
	return "", errors.New("needs an RSA, ECDSA P-256 or Ed25519 private key")
}

func (s KeySigner) sign(alg string, input []byte) ([]byte, error) {
	if alg == "EdDSA" {
		return s.Key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	sum := sha256.Sum256(input)
	sig, err := s.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil || alg != "ES256" {
		return sig, err
	}
	return ecdsaRaw(sig)
}

// ecdsaRaw converts an ASN.1 ECDSA signature to JOSE's r||s (RFC 7518 §3.4).
func ecdsaRaw(der []byte) ([]byte, error) {
	r, s, ok := parseECDSA(der)
	if !ok {
		return nil, errors.New("oauth2auth: malformed ECDSA signature")
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseECDSA(der []byte) (r, s *big.Int, ok bool) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, nil, false
	}
	return sig.R, sig.S, true
}

// Check reports whether s can sign: a non-nil key of a supported type.
func (s KeySigner) Check() error {
	if s.Key == nil {
		return errors.New("needs a private key, got nil")
	}
	_, err := s.alg()
	return err
}
