package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// The token every library verifies: RS256, a kid, the registered claims a
// service checks and the permission claims it reads, like a real access
// token from the permission service.
const (
	benchIssuer   = "https://issuer.bench.test"
	benchAudience = "orders-api"
	benchKeyID    = "bench-key-1"
)

// fixture is the key and tokens all cases share.
type fixture struct {
	key   *rsa.PrivateKey
	token string // valid for an hour from setup
}

// permClaims is what every case decodes besides checking iss/aud/exp.
type permClaims struct {
	UserID      string   `json:"userid"`
	Service     string   `json:"service"`
	Permissions []string `json:"permissions"`
}

func newFixture() (*fixture, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	f := &fixture{key: k}
	now := time.Now()
	f.token, err = f.sign(claimsAt(now, benchIssuer, benchAudience, now.Add(time.Hour)))
	return f, err
}

func claimsAt(now time.Time, iss, aud string, exp time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "svc-orders-reader", "aud": aud,
		"iat": now.Unix(), "exp": exp.Unix(), "jti": "bench-1",
		"userid": "u-1042", "service": "orders",
		"permissions": []string{"orders:read", "orders:write", "invoices:read"},
	}
}

// sign makes an RS256 JWT of claims with the fixture's key and kid.
func (f *fixture) sign(claims map[string]any) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": benchKeyID})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	in := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return in + "." + enc.EncodeToString(sig), nil
}

// jwksJSON is the public key as a JWKS document.
func (f *fixture) jwksJSON() []byte {
	pub := &f.key.PublicKey
	e := big2b64(int64(pub.E))
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": benchKeyID, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), "e": e,
	}}})
	return b
}

func big2b64(v int64) string {
	var b []byte
	for ; v > 0; v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
