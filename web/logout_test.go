package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func (rg *rig) signOut(c *http.Client, origin string) *http.Response {
	rg.t.Helper()
	req, _ := http.NewRequest("POST", rg.app.URL+"/sign-out", strings.NewReader("rd=%2Fbye"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := noFollow(c).Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSignOutIsPostFromOurOriginOnly(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	for _, tc := range []struct {
		name   string
		do     func() *http.Response
		status int
	}{
		{"GET link", func() *http.Response {
			resp, _ := noFollow(c).Get(rg.app.URL + "/sign-out")
			resp.Body.Close()
			return resp
		}, http.StatusMethodNotAllowed},
		{"cross origin", func() *http.Response { return rg.signOut(c, "https://evil.example") }, http.StatusForbidden},
		{"no origin", func() *http.Response { return rg.signOut(c, "") }, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := tc.do(); resp.StatusCode != tc.status {
				t.Errorf("got %d; want %d", resp.StatusCode, tc.status)
			}
			if status, _ := rg.get(c, "/private/x"); status != 200 {
				t.Errorf("still signed in: %d", status)
			}
		})
	}
}

func TestSignOutAtTheProvider(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	id, _ := IdentityFrom(rg.seen.Load().Context())
	resp := rg.signOut(c, rg.app.URL)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), rg.idp.issuer()+"/logout") ||
		q.Get("id_token_hint") != id.IDToken() || q.Get("post_logout_redirect_uri") != rg.app.URL+"/sign-out" || len(q.Get("state")) < 43 {
		t.Fatalf("sign-out: %d to %s", resp.StatusCode, loc.Redacted())
	}
	// The provider sends the browser back with the state: on to rd.
	resp, _ = noFollow(c).Get(loc.String())
	resp.Body.Close()
	back := resp.Header.Get("Location")
	forged, _ := url.Parse(back)
	fq := forged.Query()
	fq.Set("state", fq.Get("state")[:16]+"x")
	forged.RawQuery = fq.Encode()
	resp, _ = noFollow(c).Get(forged.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("forged logout state: %d; want 405", resp.StatusCode)
	}
	resp, _ = noFollow(c).Get(back)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/bye" {
		t.Errorf("return: %d to %q; want 303 to /bye", resp.StatusCode, resp.Header.Get("Location"))
	}
	if status, _ := rg.get(noFollow(c), "/private/x"); status != http.StatusFound {
		t.Errorf("after sign-out: %d; want the login redirect", status)
	}
}

func (rg *rig) backChannel(token string) int {
	rg.t.Helper()
	resp, err := http.PostForm(rg.app.URL+"/backchannel-logout", url.Values{"logout_token": {token}})
	if err != nil {
		rg.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestBackChannelLogout(t *testing.T) {
	for _, mode := range []string{"cookie sessions", "session store"} {
		t.Run(mode, func(t *testing.T) {
			var store *MemoryStore
			rg := newRig(t, func(c *Config, _ *fakeIdP) {
				if mode == "session store" {
					store = NewMemoryStore(c.Now)
					c.SessionStore = store
				}
			})
			alice, alice2 := rg.signIn(), rg.signIn()
			if store != nil && store.Len() != 2 {
				t.Fatalf("store holds %d; want 2", store.Len())
			}
			tok := rg.idp.logoutToken("alice", "sid-alice", nil)
			if got := rg.backChannel(tok); got != 200 {
				t.Fatalf("logout: %d", got)
			}
			for _, c := range []*http.Client{alice, alice2} {
				if status, _ := rg.get(noFollow(c), "/private/x"); status != http.StatusFound {
					t.Errorf("after back-channel logout: %d; want the login redirect", status)
				}
			}
			if store != nil && store.Len() != 0 {
				t.Errorf("store holds %d after logout; want 0", store.Len())
			}
			if got := rg.backChannel(tok); got != 400 {
				t.Errorf("replayed logout token: %d; want 400", got)
			}
		})
	}
}

func TestBackChannelLogoutTokenRefusals(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	idToken := func() string { id, _ := IdentityFrom(rg.seen.Load().Context()); return id.IDToken() }()
	for _, tc := range []struct {
		name, token string
	}{
		{"empty", ""},
		{"an ID token", idToken},
		{"with nonce", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"nonce": "n"})},
		{"no event", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"events": map[string]any{}})},
		{"event not an object", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"events": map[string]any{backChannelEvent: "x"}})},
		{"neither sid nor sub", rg.idp.logoutToken("", "", nil)},
		{"other audience", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"aud": "other"})},
		{"other issuer", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"iss": "https://evil.example"})},
		{"no jti", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"jti": nil})},
		{"old iat", rg.idp.logoutToken("alice", "sid-alice", map[string]any{"iat": rg.clock.Now().Add(-maxLogoutAge * 2).Unix()})},
		{"bad signature", rg.idp.logoutToken("alice", "sid-alice", nil)[:200] + "x"},
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
	resp, _ := http.Get(rg.app.URL + "/backchannel-logout")
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d; want 405", resp.StatusCode)
	}
}

func TestBackChannelLogoutBySubject(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	if got := rg.backChannel(rg.idp.logoutToken("alice", "", nil)); got != 200 {
		t.Fatalf("logout: %d", got)
	}
	if status, _ := rg.get(noFollow(c), "/private/x"); status != http.StatusFound {
		t.Errorf("after logout by sub: %d", status)
	}
}

func TestSessionStoreCookieHoldsOnlyAnID(t *testing.T) {
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = NewMemoryStore(c.Now) })
	c := rg.signIn()
	u, _ := url.Parse(rg.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "web_session" && len(ck.Value) > 80 {
			t.Errorf("store-mode cookie is %d B; want a sealed id", len(ck.Value))
		}
	}
	rg.clock.Add(10 * 60e9)
	if status, _ := rg.get(c, "/private/x"); status != 200 || rg.idp.refreshGrants.Load() != 1 {
		t.Errorf("refresh in store mode: %d, %d grants", status, rg.idp.refreshGrants.Load())
	}
	rg.clock.Add(10 * 60e9)
	if status, _ := rg.get(c, "/private/x"); status != 200 || rg.idp.refreshGrants.Load() != 2 {
		t.Errorf("second refresh in store mode (rotated token kept): %d, %d grants", status, rg.idp.refreshGrants.Load())
	}
}

// An ID token without sid: a logout token with sid and sub still ends the
// session (by sub), in both modes.
func TestBackChannelLogoutOfSessionWithoutSid(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		rg := newRig(t, func(c *Config, f *fakeIdP) {
			f.noSid = true
			if withStore {
				c.SessionStore = NewMemoryStore(c.Now)
			}
		})
		c := rg.signIn()
		if got := rg.backChannel(rg.idp.logoutToken("alice", "sid-unknown", nil)); got != 200 {
			t.Fatalf("logout: %d", got)
		}
		if status, _ := rg.get(noFollow(c), "/private/x"); status != http.StatusFound {
			t.Errorf("store %v: after logout: %d; want the login redirect", withStore, status)
		}
	}
}
