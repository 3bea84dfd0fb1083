package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProbeAppCookiesKept: removing the middleware's cookies must leave the
// app's own cookies as the browser sent them, including ones whose names
// start like the session cookie's and quoted values.
func TestProbeAppCookiesKept(t *testing.T) {
	rg := newRig(t, nil)
	var got string
	h := rg.login.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Get("Cookie") }))
	req := httptest.NewRequest("GET", "/public", nil)
	req.Header.Set("Cookie", `web_session=garbage; web_session_prefs=dark; q="a b"`)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != `web_session_prefs=dark; q="a b"` {
		t.Skipf("FINDING (low): the app receives Cookie %q: its own cookies named web_session_* are removed as the "+
			"middleware's, and quoted or unparsable values are rewritten or dropped (jar.stripCookies rebuilds the header "+
			"from r.Cookies())", got)
	}
}
