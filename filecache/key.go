package filecache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Key returns the cache key for the tokens a client obtains from an issuer
// for a set of scopes. The scopes are sorted and de-duplicated first, so
// their order does not matter. The key is plain text (it contains no
// secret); Cache hashes it into a file name.
func Key(issuer, clientID string, scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	s = slices.Compact(s)
	if s == nil {
		s = []string{}
	}
	// JSON keeps the three parts apart whatever characters they contain.
	b, _ := json.Marshal(struct {
		Issuer   string   `json:"iss"`
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	}{issuer, clientID, s})
	return string(b)
}

// fileName returns the name of key's token file: 32 hex digits of the key's
// SHA-256, safe on every file system whatever the key contains.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".token"
}
