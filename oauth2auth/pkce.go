package oauth2auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// pkce is one RFC 7636 proof key: the verifier stays in this process, the
// S256 challenge goes in the authorization request.
type pkce struct {
	verifier  string // secret: never logged
	challenge string
}

// challengeMethod is the only PKCE method this package uses; "plain" would
// expose the verifier in the authorization request.
const challengeMethod = "S256"

// newPKCE returns a fresh proof key: 32 random bytes (43 characters of
// base64url, RFC 7636 §4.1) and their S256 challenge (§4.2).
func newPKCE() pkce {
	v := randomString()
	return pkce{verifier: v, challenge: s256(v)}
}

// s256 is BASE64URL(SHA256(ASCII(verifier))).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns 256 bits from crypto/rand in base64url, for PKCE
// verifiers, state and nonce values.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
