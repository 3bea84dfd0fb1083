package dpop

import (
	"net/url"
	"strings"
	"testing"
)

// Review of the htu normalisation fix (RFC 9449 §4.3, RFC 3986 §5.2.4,
// §6.2.2): dot segments, encoded dots, and client/server agreement.

func TestReviewRemoveDotSegmentsRFC3986(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b/..":             "/a/",
		"/a/b/.":              "/a/b/",
		"/..":                 "/",
		"/.":                  "/",
		"/a/./":               "/a/",
		"/a/./b":              "/a/b",
		"/../a":               "/a",
		"/a/../../b":          "/b",
		"/a//../b":            "/a/b",
		"/a/b/c/./../../g":    "/a/g",   // RFC 3986 §5.2.4's own example
		"/mid/content=5/../6": "/mid/6", // ditto
		"/...":                "/...",
		"/a/..b":              "/a/..b",
		"":                    "/",
	} {
		if got := normalPath(in); got != want {
			t.Errorf("normalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// RFC 3986 §6.2.2: percent-encoding normalisation (§6.2.2.2) comes before
// path segment normalisation (§6.2.2.3), and %2E is the unreserved ".", so
// "%2e%2e" is a dot segment; an encoded "/" is not a separator; "%25" is
// not decoded twice.
func TestReviewEncodedDots(t *testing.T) {
	for in, want := range map[string]string{
		"/a/%2e%2e/b":   "/b",
		"/a/%2E./b":     "/b",
		"/a/.%2e":       "/",
		"/a/%2e":        "/a/",
		"/a%2F..%2Fb":   "/a%2F..%2Fb",
		"/a/%252e%252e": "/a/%252e%252e", // "2e" after %25 is text
		"/%7euser":      "/~user",
		"/%c3%a9":       "/%C3%A9",
	} {
		if got := normalPath(in); got != want {
			t.Errorf("normalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// What the client signs (TargetURI of its URL) is what the server finds
// again after parsing the htu and normalising it: TargetURI is a fixed
// point, so both sides agree on every spelling.
func TestReviewTargetURIFixedPoint(t *testing.T) {
	for _, raw := range []string{
		"https://EXAMPLE.com:443/a/%2e%2e/b?q#f",
		"http://example.com:80",
		"http://example.com:/x/./y/../",
		"https://[::1]:8443/%7e/%41%zz",
		"https://example.com//a/..//b",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		checkFixedPoint(t, u)
	}
}

func checkFixedPoint(t *testing.T, u *url.URL) {
	t.Helper()
	htu := TargetURI(u)
	if htu == "" {
		return
	}
	v, err := url.Parse(htu)
	if err != nil {
		t.Fatalf("TargetURI(%q) = %q does not parse: %v", u, htu, err)
	}
	if again := TargetURI(v); again != htu {
		t.Fatalf("TargetURI not a fixed point: %q -> %q -> %q", u, htu, again)
	}
	o := Origin(u)
	if !strings.HasPrefix(htu, o+"/") || !strings.Contains(o, "://") {
		t.Fatalf("Origin(%q) = %q is not the scheme and host of htu %q", u, o, htu)
	}
}

// A hand-built URL whose path does not start with "/" (url.URL.String adds
// the "/"; net/http writes it as given) must not glue its path onto the
// host: "https://a.com" + "b" names host a.comb.
func TestReviewTargetURIRootlessPath(t *testing.T) {
	u := &url.URL{Scheme: "https", Host: "a.com", Path: "b/./c"}
	if got := TargetURI(u); got != "https://a.com/b/c" {
		t.Fatal(`regression (low): dpop/proof.go:160 TargetURI(&url.URL{Scheme:"https",Host:"a.com",Path:"b/./c"}) = ` + got +
			` (path glued to the host, another host's htu) and Origin = "` + Origin(u) + `"; fix: in normalPath prefix "/" to a non-empty path that lacks it (RFC 3986 §3.3 path-abempty), or refuse it`)
	}
}

func FuzzReviewTargetURI(f *testing.F) {
	for _, s := range []string{"https://a.com/a/%2e%2e/b", "http://A.com:80/./", "https://x:443//..", "HTTPS://[::1]:/%7E", "http://h/%zz/%2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		_ = Origin(u)
		htu := TargetURI(u)
		if htu == "" || u.Opaque != "" || strings.Trim(u.Hostname(), ":") == "" || !printable(htu) ||
			(strings.Contains(u.Hostname(), ":") && !strings.HasPrefix(u.Host, "[")) {
			return // an empty host, or colons outside brackets: TestReviewTargetURIEmptyHost
		}
		checkFixedPoint(t, u)
	})
}

func FuzzReviewNormalPath(f *testing.F) {
	for _, s := range []string{"/a/b/..", "/..", "/.", "a/./", "/%2e%2e", "%", "/%4", "/a//../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if _, err := url.PathUnescape(p); err != nil {
			return // EscapedPath never gives a broken escape ("%7%41" is not idempotent, but unreachable)
		}
		out := normalPath(p)
		if strings.HasPrefix(p, "/") && !strings.HasPrefix(out, "/") {
			t.Fatalf("normalPath(%q) = %q lost its leading /", p, out)
		}
		if again := normalPath(out); again != out {
			t.Fatalf("normalPath not idempotent: %q -> %q -> %q", p, out, again)
		}
		for _, seg := range strings.Split(out, "/") {
			if strings.HasPrefix(p, "/") && (seg == "." || seg == "..") {
				t.Fatalf("normalPath(%q) = %q keeps a dot segment", p, out)
			}
		}
	})
}

// "http://:" has an empty host once its empty port is dropped: TargetURI
// should be "" (no host), not "http:///", which a proof then carries and
// no server accepts.
func TestReviewTargetURIEmptyHost(t *testing.T) {
	u := &url.URL{Scheme: "http", Host: ":"}
	// (the fuzzer's "http://::" is the same: host ":" after one ":" is cut,
	// "http://:/", which parses back to "http:///"; and "a://:A:" gives
	// "a://:a/", which does not parse: cutting the empty port made ":a" a port)
	if got := TargetURI(u); got != "" {
		t.Fatal(`regression (info): dpop/proof.go:156 TargetURI(http://:) = "` + got + `" (Origin "` + Origin(u) + `"): a host that is empty after the empty port is dropped still yields an htu (and "a://:A:" yields "a://:a/", which does not parse); fix: return "" when the host is empty, or holds a ':' outside brackets, after TrimSuffix`)
	}
}
