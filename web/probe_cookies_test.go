package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func sessionCookies(t *testing.T, rg *rig, c *http.Client) []*http.Cookie {
	t.Helper()
	u, _ := url.Parse(rg.app.URL)
	var out []*http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == rg.login.jar.name || strings.HasPrefix(ck.Name, rg.login.jar.name+"_") {
			out = append(out, ck)
		}
	}
	return out
}

func (rg *rig) status(cookies ...*http.Cookie) int {
	req := httptest.NewRequest("GET", "/private/x", nil)
	req.Header.Set("Accept", "application/json")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	rg.login.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, req)
	return w.Code
}

// TestProbeCookiePurposesDoNotMix: a flow cookie's value presented as the
// session, a session under a flow cookie's name, and a session sealed for
// the store id key never open.
func TestProbeCookiePurposesDoNotMix(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	sess := sessionCookies(t, rg, c)[0]
	if rg.status(sess) != 200 {
		t.Fatal("the session itself does not open")
	}
	// A fresh flow cookie.
	resp, _ := noFollow(rg.browser()).Get(rg.app.URL + "/private/y")
	resp.Body.Close()
	var flow *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, rg.login.jar.flowPrefix()) {
			flow = ck
		}
	}
	if flow == nil {
		t.Fatal("no flow cookie")
	}
	name := rg.login.jar.name
	for label, ck := range map[string]*http.Cookie{
		"flow value as session":     {Name: name, Value: flow.Value},
		"store-id seal as session":  {Name: name, Value: rg.login.ids.seal([]byte("x"), name)},
		"flow-key seal as session":  {Name: name, Value: rg.login.flows.seal(realisticSession("rt").encode(), name)},
		"session split into chunks": {Name: name, Value: sess.Value[:10]},
	} {
		if got := rg.status(ck); got != http.StatusUnauthorized {
			t.Errorf("%s: %d; want 401", label, got)
		}
	}
	// The session's value split into two chunks in the wrong order, and with
	// an extra chunk appended.
	v := sess.Value
	half := len(v) / 2
	if got := rg.status(&http.Cookie{Name: name, Value: v[half:]}, &http.Cookie{Name: name + "_1", Value: v[:half]}); got != 401 {
		t.Errorf("reordered chunks: %d; want 401", got)
	}
	if got := rg.status(&http.Cookie{Name: name, Value: v[:half]}, &http.Cookie{Name: name + "_1", Value: v[half:]}); got != 200 {
		t.Errorf("the session split by hand into two chunks: %d; want 200", got)
	}
	// 100 chunk cookies, and a 70 KiB one: signed out, never a 500.
	var many []*http.Cookie
	for i := range 100 {
		many = append(many, &http.Cookie{Name: name + "_" + strconv.Itoa(i), Value: strings.Repeat("A", 3000)})
	}
	many[0].Name = name
	if got := rg.status(many...); got != 401 {
		t.Errorf("100 chunks: %d; want 401", got)
	}
	if got := rg.status(&http.Cookie{Name: name, Value: strings.Repeat("A", 70<<10)}); got != 401 {
		t.Errorf("70 KiB cookie: %d; want 401", got)
	}
}

// TestProbeStoreValueBoundToItsID: a value moved to another id in the store
// (a store that an attacker can write to, or a bug in a store) must not sign
// the other id's browser in as the value's user.
func TestProbeStoreValueBoundToItsID(t *testing.T) {
	store := NewMemoryStore(nil)
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.SessionStore = store })
	alice := rg.signIn()
	bob := rg.browser()
	if status, body := rg.get(bob, "/private/page"); status != 200 || !strings.HasPrefix(body, "hello alice") {
		t.Fatalf("second sign-in: %d %q", status, body)
	}
	store.mu.Lock()
	var ids []string
	for id := range store.items {
		ids = append(ids, id)
	}
	if len(ids) != 2 {
		store.mu.Unlock()
		t.Fatalf("store holds %d", len(ids))
	}
	a, b := store.items[ids[0]], store.items[ids[1]]
	store.items[ids[0]], store.items[ids[1]] = b, a
	store.mu.Unlock()
	for _, c := range []*http.Client{alice, bob} {
		if rg.status(sessionCookies(t, rg, c)...) != http.StatusUnauthorized {
			t.Errorf("a stored value moved to another id opened")
		}
	}
}
