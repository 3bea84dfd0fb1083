package permsvc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Claims are a permission token's claims. Exp is 0 in a legacy token.
type Claims struct {
	UserID      string   `json:"userid"`
	Service     string   `json:"service"`
	Permissions []string `json:"permissions"`
	Issuer      string   `json:"iss"`
	Audience    string   `json:"aud"`
	IssuedAt    int64    `json:"iat"`
	Expiry      int64    `json:"exp,omitempty"`
}

// Issue signs a permission token for the user userID on service, with the
// permissions the user holds there (none when the user has none).
func (s *Service) Issue(userID, service string) (string, error) {
	u, ok := s.users[userID]
	if !ok {
		return "", errUnknownUser
	}
	now := s.now()
	c := Claims{UserID: u.ID, Service: service, Permissions: u.Permissions[service],
		Issuer: s.issuer, Audience: service, IssuedAt: now.Unix()}
	if c.Permissions == nil {
		c.Permissions = []string{}
	}
	if s.lifetime > 0 {
		c.Expiry = now.Add(s.lifetime).Unix()
	}
	return s.Sign(c)
}

// Sign signs any claims with the service's current key: tests use it to
// make tokens Issue would not (another audience, an old exp).
func (s *Service) Sign(claims any) (string, error) {
	s.mu.Lock()
	key, kid := s.key, s.keyID
	s.issued++
	s.mu.Unlock()
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("permsvc: encoding claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("permsvc: signing: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}
