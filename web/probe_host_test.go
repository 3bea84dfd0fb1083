package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProbeHostHeaderAndForwardedSpoofing: the redirect URI and the
// post-logout URI come from ExternalURL whatever Host and X-Forwarded-*
// say; a spoofed identity header never reaches the app, signed in or not.
func TestProbeHostHeaderAndForwardedSpoofing(t *testing.T) {
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.IdentityHeaders = true })
	h := rg.login.Wrap(http.HandlerFunc(rg.serveApp))
	req := httptest.NewRequest("GET", "http://evil.example/private/x", nil)
	req.Host = "evil.example"
	for k, v := range map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
		"Forwarded": "host=evil.example;proto=https", "X-Original-URL": "/public", "X-Rewrite-URL": "/public",
		"Accept": "text/html"} {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || loc.Query().Get("redirect_uri") != rg.app.URL+"/oidc_callback" {
		t.Errorf("login redirect %d with redirect_uri %q; want %s/oidc_callback", w.Code, loc.Query().Get("redirect_uri"), rg.app.URL)
	}
	for _, ck := range w.Result().Cookies() {
		if ck.Domain != "" {
			t.Errorf("cookie %s has Domain %q", ck.Name, ck.Domain)
		}
	}
	// Signed in: inbound X-Forwarded-Email (and odd-case copies) are replaced.
	c := rg.signIn()
	r2, _ := http.NewRequest("GET", rg.app.URL+"/public", nil)
	r2.Header["x-forwarded-email"] = []string{"admin@evil.example"}
	r2.Header.Set("X-Forwarded-User", "root")
	resp, err := c.Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := rg.seen.Load()
	if got := seen.Header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("X-Forwarded-User %q; want [alice]", got)
	}
	if got := seen.Header.Values("X-Forwarded-Email"); len(got) != 1 || got[0] != "alice@example.test" {
		t.Errorf("X-Forwarded-Email %q; want [alice@example.test]", got)
	}
	for k := range seen.Header {
		if strings.EqualFold(k, "x-forwarded-email") && k != "X-Forwarded-Email" {
			t.Errorf("a non-canonical copy %q reached the app", k)
		}
	}
}

// TestProbeNonBrowserRequestsGet401: POST, PUT, DELETE, a JSON request and
// an XHR to a protected path get 401, never the app, never a flow cookie.
func TestProbeNonBrowserRequestsGet401(t *testing.T) {
	rg := newRig(t, nil)
	reached := false
	h := rg.login.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	for _, tc := range []struct{ method, accept, xrw string }{
		{"POST", "text/html", ""}, {"PUT", "", ""}, {"DELETE", "", ""}, {"PATCH", "", ""}, {"OPTIONS", "", ""},
		{"GET", "application/json", ""}, {"GET", "text/html", "XMLHttpRequest"}, {"get", "text/html", ""},
	} {
		req := httptest.NewRequest(tc.method, "/private/x", nil)
		req.Header.Set("Accept", tc.accept)
		if tc.xrw != "" {
			req.Header.Set("X-Requested-With", tc.xrw)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized || reached || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s %q %q: %d (app reached %v, %d cookies); want 401", tc.method, tc.accept, tc.xrw, w.Code, reached, len(w.Result().Cookies()))
		}
		reached = false
	}
}
