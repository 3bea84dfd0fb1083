package redisstore

import (
	"context"
	"testing"
	"time"
)

// Two clients that differ in any part of their identity never share a
// token; order and duplicates of scopes and resources do not matter.
func TestBreakKeyIdentity(t *testing.T) {
	base := Identity{TokenURL: "https://idp/token", ClientID: "c", ClientSecret: "s",
		Scopes: []string{"a", "b"}, Audience: "aud", Resources: []string{"https://r1", "https://r2"}}
	differ := map[string]func(*Identity){
		"token url":      func(i *Identity) { i.TokenURL += "2" },
		"client id":      func(i *Identity) { i.ClientID = "c2" },
		"secret":         func(i *Identity) { i.ClientSecret = "s2" },
		"no secret":      func(i *Identity) { i.ClientSecret = "" },
		"scope added":    func(i *Identity) { i.Scopes = append(i.Scopes, "c") },
		"scope removed":  func(i *Identity) { i.Scopes = i.Scopes[:1] },
		"audience":       func(i *Identity) { i.Audience = "aud2" },
		"no audience":    func(i *Identity) { i.Audience = "" },
		"resource":       func(i *Identity) { i.Resources = []string{"https://r1"} },
		"scope/resource": func(i *Identity) { i.Scopes, i.Resources = i.Resources, i.Scopes },
		"id into url":    func(i *Identity) { i.TokenURL, i.ClientID = "https://idp/tokenc", "" },
		"quote in id":    func(i *Identity) { i.ClientID = `c","secret_sha256":"x` },
	}
	k0 := Key(base)
	s := newStoreOnMini(t)
	for name, f := range differ {
		id := base
		id.Scopes, id.Resources = append([]string(nil), base.Scopes...), append([]string(nil), base.Resources...)
		f(&id)
		if Key(id) == k0 {
			t.Errorf("%s: same key as the base identity", name)
		}
		if s.keys(Key(id)) == s.keys(k0) {
			t.Errorf("%s: same Redis keys", name)
		}
	}
	same := base
	same.Scopes = []string{"b", "a", "b"}
	same.Resources = []string{"https://r2", "https://r1", "https://r1"}
	if Key(same) != k0 {
		t.Error("scope/resource order or duplicates changed the key")
	}
	// the secret never appears in the key in plain text
	secretID := base
	secretID.ClientSecret = "very-secret-value"
	if k := Key(secretID); contains(k, "very-secret-value") {
		t.Error("the key holds the client secret")
	}
	// a token stored for one identity is absent for another
	ctx := context.Background()
	other := base
	other.Audience = "aud2"
	unlock, _ := s.Lock(ctx, k0)
	_ = s.Store(ctx, k0, token("for-base", time.Now().Add(time.Hour)))
	_ = unlock()
	if tok, _ := s.Load(ctx, Key(other)); tok != nil {
		t.Errorf("another identity loaded %q", tok.AccessToken)
	}
}

func newStoreOnMini(t *testing.T) *Store { _, s := newMini(t); return s }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
