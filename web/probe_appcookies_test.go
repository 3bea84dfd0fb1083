package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProbeAppCookiesKept: removing the middleware's cookies must leave the
// app's own cookies as the browser sent them, including ones whose names
// start like the session cookie's and quoted values. Fails on the old
// code: web_session_prefs was removed and the quotes dropped.
func TestProbeAppCookiesKept(t *testing.T) {
	rg := newRig(t, nil)
	var got string
	h := rg.login.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Cookie") }))
	req := httptest.NewRequest("GET", "/public", nil)
	req.Header.Set("Cookie", `web_session=garbage; web_session_prefs=dark; q="a b"`)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != `web_session_prefs=dark; q="a b"` {
		t.Errorf("the app receives Cookie %q; want its own cookies as sent (web_session_prefs kept, quotes kept)", got)
	}
}

// FuzzStripCookies: whatever Cookie header the browser sends, the app
// never receives one of the middleware's cookies, and nothing panics.
func FuzzStripCookies(f *testing.F) {
	f.Add(`web_session=garbage; web_session_prefs=dark; q="a b"`)
	f.Add(`web_session_1=x;web_session_f_abc=y; ; =; a`)
	f.Add(" web_session =x;\tweb_session_9=z")
	j := newJar(DefaultCookieName, false)
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", header)
		j.stripCookies(req, req.Cookies())
		for _, c := range req.Cookies() {
			if j.owns(c.Name) {
				t.Errorf("Cookie %q reaches the app after stripping %q", c.Name, header)
			}
		}
	})
}
