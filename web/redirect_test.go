package web

import "testing"

// The open-redirect forms of the oauth2-proxy and ags advisories
// (CVE-2020-5233, CVE-2021-21291 and friends): every one falls back to "/".
var openRedirects = []string{
	"//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example",
	"\\/evil.example", "/\t/evil.example", "/ /evil.example", "/\n/evil.example", "/\r\n/evil.example",
	"/%2f%2fevil.example", "/%2F%2Fevil.example", "/%5cevil.example", "/%5C%5Cevil.example", "/%252f%252fevil.example",
	"/%09/evil.example", "/%0d%0a/evil.example", "https://evil.example", "http://evil.example", "https:evil.example",
	"https:/evil.example", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "//user@evil.example",
	"/@evil.example/", "//app.example@evil.example", "https://app.example@evil.example", "evil.example", " /x",
	"/x\x00", "/x\x7f", "\t//evil.example", "/.\\evil.example", "/%2f/evil.example", "//%2fevil.example",
	"/\u3002evil.example", "//evil%E3%80%82example", "", "?next=//evil", "#//evil",
}

func TestOpenRedirectCorpusFallsBackToRoot(t *testing.T) {
	if len(openRedirects) < 30 {
		t.Fatalf("corpus has %d payloads; want at least 30", len(openRedirects))
	}
	for _, p := range openRedirects {
		if p == "/@evil.example/" {
			continue // a path on this site, kept (below)
		}
		if got := safeReturnTo(p); got != "/" {
			t.Errorf("safeReturnTo(%q) = %q; want /", p, got)
		}
	}
}

func TestSafeReturnToKeepsSameSitePaths(t *testing.T) {
	for _, p := range []string{"/", "/page", "/a/b?x=1&y=%2F", "/search?q=a%20b#frag", "/@evil.example/", "/a//b"} {
		if got := safeReturnTo(p); got != p {
			t.Errorf("safeReturnTo(%q) = %q; want it kept", p, got)
		}
	}
}

func FuzzSafeReturnTo(f *testing.F) {
	for _, p := range openRedirects {
		f.Add(p)
	}
	f.Add("/ok?x=1")
	f.Fuzz(func(t *testing.T, target string) {
		got := safeReturnTo(target)
		if got == "/" {
			return
		}
		if got != target {
			t.Fatalf("changed %q to %q", target, got)
		}
		// What a browser would do with it: resolve against the app.
		if !sameSiteWhenResolved(got) {
			t.Fatalf("%q leaves the site", got)
		}
	})
}
