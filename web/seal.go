package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Purposes of the sealing keys: each is derived from the session secret
// with HKDF-SHA256 and its own info string, so a flow cookie cannot be
// passed off as a session, nor a store id as either.
const (
	purposeSession = "authorizer/web session v1"
	purposeFlow    = "authorizer/web flow v1"
	purposeStoreID = "authorizer/web store id v1"
)

// maxSealed bounds what open will try to decode (a chunked session).
const maxSealed = 64 << 10

// A sealer seals with the current secret's key and opens with any key
// (current first, then the older secrets'). It is safe for concurrent use.
type sealer struct {
	aeads []cipher.AEAD // [0] seals; all open
}

func newSealer(purpose string, secrets []string) (*sealer, error) {
	s := &sealer{}
	for _, secret := range secrets {
		key, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, gcm)
	}
	return s, nil
}

// seal encrypts plain with a random 96-bit nonce; ad (the cookie's name) is
// authenticated, so a sealed value only opens under the name it was
// written for. The result is base64url without padding.
func (s *sealer) seal(plain []byte, ad string) string {
	g := s.aeads[0]
	out := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	rand.Read(out) // never fails (crypto/rand)
	out = g.Seal(out, out, plain, []byte(ad))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open reverses seal; ok is false for anything that was not sealed by one of
// the keys under ad.
func (s *sealer) open(value, ad string) (plain []byte, ok bool) {
	if len(value) > maxSealed {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil {
		return nil, false
	}
	for _, g := range s.aeads {
		if len(raw) < g.NonceSize()+g.Overhead() {
			return nil, false
		}
		if p, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(ad)); err == nil {
			return p, true
		}
	}
	return nil, false
}

// randomString returns n random bytes, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
