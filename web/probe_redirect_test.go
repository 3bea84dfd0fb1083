package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProbeOpenRedirectCorpus: every target the sign-out form may carry,
// after safeReturnTo and http.Redirect, resolves (as a browser resolves a
// Location) to the app's own host.
func TestProbeOpenRedirectCorpus(t *testing.T) {
	corpus := []string{
		"//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
		"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/%09/evil.example",
		"/%2f%2fevil.example", "/%2F/evil.example", "/%5cevil.example", "/%5C%5Cevil.example", "/%252f%252fevil.example",
		"/%25252f%25252fevil.example", "https:evil.example", "https:/evil.example", "https://evil.example", "http:\\\\evil.example",
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/.//evil.example", "/./\\evil.example",
		"/..//evil.example", "/%2e%2e//evil.example", "/%2e/%2fevil.example", "/a/..//evil.example", "/../\\evil.example",
		"//app.example@evil.example", "/@evil.example", "/\\@evil.example", "@evil.example", "evil.example",
		"/\u2215evil.example", "/\u2215\u2215evil.example", "/\uff0f\uff0fevil.example", "/\uff3cevil.example",
		"/\u3002evil.example", "/%ef%bc%8f%ef%bc%8fevil.example", "/\x00/evil.example", "/%00/evil.example",
		"/\x7f/evil.example", "/?//evil.example", "/#//evil.example", "/\u200b/evil.example", "/%e2%80%8b/evil.example",
		"/" + strings.Repeat("a", 5000), "/" + strings.Repeat("/", 3000) + "evil.example", " //evil.example",
		"//evil.example/%2f..", "/%0d%0aSet-Cookie:x=1", "/x\r\nSet-Cookie: x=1",
	}
	base, _ := url.Parse("https://app.example/sign-out")
	for _, p := range corpus {
		got := safeReturnTo(p)
		w := httptest.NewRecorder()
		http.Redirect(w, httptest.NewRequest("POST", "https://app.example/sign-out", nil), got, http.StatusSeeOther)
		loc := w.Header().Get("Location")
		if strings.ContainsAny(loc, "\r\n") || len(w.Header()["Set-Cookie"]) > 0 {
			t.Errorf("%q: header injection %q", p, loc)
			continue
		}
		// A browser strips tabs and newlines and reads backslashes as
		// slashes in http(s) URLs before resolving.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		u, err := base.Parse(browser)
		if err != nil || u.Host != "app.example" || u.Scheme != "https" {
			t.Errorf("%q → Location %q resolves to %v (err %v); want the app", p, loc, u, err)
		}
	}
	for _, ok := range []string{"/", "/page", "/page?x=1&y=/z", "/a/b/", "/search?q=%2F%2Fx"} {
		if got := safeReturnTo(ok); got != ok {
			t.Errorf("safe target %q became %q", ok, got)
		}
	}
}
