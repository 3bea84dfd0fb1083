package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// Identity is what makes two token requests interchangeable: the same
// token endpoint, client, credentials, scopes, audience and resources
// (RFC 8707). Two clients that differ in any of them must not share a
// token (Duende's CVE-2025-26620 shared tokens across clients whose cache
// keys left the client out).
type Identity struct {
	TokenURL     string
	ClientID     string
	ClientSecret string // only its SHA-256 enters the key
	Scopes       []string
	Audience     string
	Resources    []string
}

// Key returns the cache key of id, for base.WithCache(store, Key(id)).
// Scopes and resources are sorted and de-duplicated, so their order does
// not matter. The client secret enters the key only as a SHA-256, so that
// a changed secret starts a new key; the Store hashes the whole key again
// before it names a Redis key, so none of it reaches Redis.
func Key(id Identity) string {
	secret := ""
	if id.ClientSecret != "" {
		sum := sha256.Sum256([]byte("authorizer/redisstore secret\x00" + id.ClientSecret))
		secret = hex.EncodeToString(sum[:])
	}
	// JSON keeps the parts apart whatever characters they contain.
	b, _ := json.Marshal(struct {
		TokenURL  string   `json:"token_url"`
		ClientID  string   `json:"client_id"`
		Secret    string   `json:"secret_sha256,omitempty"`
		Scopes    []string `json:"scopes"`
		Audience  string   `json:"aud,omitempty"`
		Resources []string `json:"resources,omitempty"`
	}{id.TokenURL, id.ClientID, secret, set(id.Scopes), id.Audience, set(id.Resources)})
	return string(b)
}

// set returns s sorted and de-duplicated, never nil.
func set(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	s = slices.Compact(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// String describes id without its secret.
func (id Identity) String() string {
	redacted := id
	if redacted.ClientSecret != "" {
		redacted.ClientSecret = "REDACTED"
	}
	type plain Identity // no String method: no recursion
	return fmt.Sprintf("%+v", plain(redacted))
}

// Format prints id as String does, whatever the verb, so that %v, %+v
// and %#v never show the secret.
func (id Identity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, id.String()) }

// LogValue logs id as String does.
func (id Identity) LogValue() slog.Value { return slog.StringValue(id.String()) }
