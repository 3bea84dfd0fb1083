package web

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func signWith(k *rsa.PrivateKey, header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestProbeBackChannelMoreRefusals(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := rg.clock.Now()
	base := func() map[string]any {
		return map[string]any{"iss": rg.idp.issuer(), "aud": "web-app", "iat": now.Unix(), "jti": randomString(8),
			"sub": "alice", "sid": "sid-alice", "events": map[string]any{backChannelEvent: map[string]any{}}}
	}
	b64 := func(v any) string { j, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(j) }
	none := b64(map[string]any{"alg": "none", "typ": "logout+jwt"}) + "." + b64(base()) + "."
	hs := func() string {
		// HS256 with the RSA modulus as the "secret": the key-confusion attack.
		return b64(map[string]any{"alg": "HS256", "kid": "k1"}) + "." + b64(base()) + ".AAAA"
	}()
	withClaims := func(edit func(map[string]any)) string {
		m := base()
		edit(m)
		return rg.idp.sign(m)
	}
	for _, tc := range []struct{ name, token string }{
		{"alg none", none},
		{"alg HS256", hs},
		{"signed by another key", signWith(other, map[string]any{"alg": "RS256", "kid": "k1"}, base())},
		{"events null", withClaims(func(m map[string]any) { m["events"] = nil })},
		{"events array", withClaims(func(m map[string]any) { m["events"] = []any{backChannelEvent} })},
		{"other event", withClaims(func(m map[string]any) {
			m["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		})},
		{"expired", withClaims(func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })},
		{"iat an hour ahead", withClaims(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() })},
		{"no iat", withClaims(func(m map[string]any) { delete(m, "iat") })},
		{"nonce null", withClaims(func(m map[string]any) { m["nonce"] = nil })},
		{"aud list without us", withClaims(func(m map[string]any) { m["aud"] = []string{"x", "y"} })},
		{"huge", withClaims(func(m map[string]any) { m["pad"] = strings.Repeat("A", 70<<10) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rg.backChannel(tc.token); got != 400 {
				t.Errorf("got %d; want 400", got)
			}
		})
	}
	if status, _ := rg.get(c, "/private/x"); status != 200 {
		t.Errorf("a refused logout token signed the user out: %d", status)
	}
	// The same jti in a second, otherwise valid token is a replay too.
	jti := "same-jti"
	if got := rg.backChannel(withClaims(func(m map[string]any) { m["jti"] = jti; m["sub"] = "bob"; m["sid"] = "sid-bob" })); got != 200 {
		t.Fatalf("first token: %d", got)
	}
	if got := rg.backChannel(withClaims(func(m map[string]any) { m["jti"] = jti })); got != 400 {
		t.Errorf("second token with a seen jti: %d; want 400", got)
	}
	// A logout for bob leaves alice signed in.
	if status, _ := rg.get(c, "/private/x"); status != 200 {
		t.Errorf("bob's logout signed alice out: %d", status)
	}
}

// TestProbeBackChannelLogoutDuringRefresh: a back-channel logout that
// arrives while a refresh of the same session is in flight must not be
// undone by the refresh storing the session again (other replicas would
// serve it; they have no deny-list entry).
func TestProbeBackChannelLogoutDuringRefresh(t *testing.T) {
	store := NewMemoryStore(nil)
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = store })
	c := rg.signIn()
	gate := make(chan struct{})
	rg.idp.refreshGate = gate
	rg.clock.Add(10 * time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rg.get(noFollow(c), "/private/x")
	}()
	for rg.idp.refreshGrants.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	resp, err := http.PostForm(rg.app.URL+"/backchannel-logout", url.Values{"logout_token": {rg.idp.logoutToken("alice", "sid-alice", nil)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	close(gate)
	<-done
	if n := store.Len(); n != 0 {
		t.Errorf("a refresh in flight during a back-channel logout stored the session again: the store holds %d", n)
	}
}

// TestProbeBackChannelLogoutOnAnotherReplicaDuringRefresh: the logout
// reaches replica B while replica A refreshes the same session; A must not
// put the session back into the shared store.
func TestProbeBackChannelLogoutOnAnotherReplicaDuringRefresh(t *testing.T) {
	store := NewMemoryStore(nil)
	a := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = store })
	cfgB := a.login.cfg
	b, err := New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := a.signIn()
	gate := make(chan struct{})
	a.idp.refreshGate = gate
	a.clock.Add(10 * time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.get(noFollow(c), "/private/x")
	}()
	for a.idp.refreshGrants.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	req := httptest.NewRequest("POST", "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {a.idp.logoutToken("alice", "sid-alice", nil)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	b.Wrap(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("logout at B: %d", rec.Code)
	}
	close(gate)
	<-done
	if n := store.Len(); n != 0 {
		t.Errorf("replica A's refresh put the session back after B's logout: the store holds %d", n)
	}
}

// TestProbeSignInAgainAfterSidLogout: a back-channel logout by sid ends the
// sessions that began before it; signing in again afterwards (the provider
// may hand out the same sid) works instead of looping through login.
func TestProbeSignInAgainAfterSidLogout(t *testing.T) {
	rg := newRig(t, nil)
	old := rg.signIn()
	if got := rg.backChannel(rg.idp.logoutToken("", "sid-alice", nil)); got != 200 {
		t.Fatalf("logout: %d", got)
	}
	if status, _ := rg.get(noFollow(old), "/private/x"); status != http.StatusFound {
		t.Errorf("old session after logout: %d; want the login redirect", status)
	}
	rg.clock.Add(time.Second)
	c := rg.browser()
	if status, body := rg.get(c, "/private/page"); status != 200 || !strings.HasPrefix(body, "hello alice") {
		t.Errorf("sign-in after the logout: %d %q; want the page", status, body)
	}
}
