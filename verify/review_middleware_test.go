package verify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
)

// Review of the Middleware origin requirement, htu agreement and the user
// info refusal (5e116ca).

func TestReviewMiddlewareOriginRequired(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	bare := Middleware(v)(dpopHandler(t))
	proof := mustProof(t, dpKey, "GET", mustURL("http://api.example/v1/things"), tok, "", c.Now())
	w := httptest.NewRecorder()
	bare.ServeHTTP(w, dpopRequest("GET", "http://api.example/v1/things", "DPoP", tok, proof))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("DPoP without a known origin: %d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}
	w = httptest.NewRecorder()
	bare.ServeHTTP(w, dpopRequest("GET", "http://api.example/v1/things", "Bearer", unbound))
	if w.Code != http.StatusOK {
		t.Fatalf("a bearer token without an origin: %d (the origin rule is for DPoP only)", w.Code)
	}
}

// What base signs (dpop.TargetURI of the URL it sends to) is what the
// Middleware accepts for spellings of one request, and only those.
func TestReviewMiddlewareHTUSpellings(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	behind := Middleware(v, WithExternalOrigin("https://API.example:443"))(dpopHandler(t))
	for _, tc := range []struct {
		signed, path string
		want         int
	}{
		{"https://api.example/v1/things", "/v1/things", 200},
		{"https://api.example/v1/things", "/v1/x/%2e%2e/things", 200}, // RFC 3986 §6.2.2: one URI
		{"https://api.example/v1/x/%2E%2E/things", "/v1/things", 200},
		{"https://api.example/v1/%74hings", "/v1/things", 200},
		{"https://api.example:443/v1/things?q=1", "/v1/things?r=2", 200}, // query ignored (RFC 9449 §4.3)
		{"https://api.example/v1/things", "/v1/things/", 401},
		{"https://api.example/v1/things", "/v1/things%2F", 401},
		{"https://api.example/v1/things", "/v1/Things", 401},
		{"http://api.example/v1/things", "/v1/things", 401},
		{"https://api.example:8443/v1/things", "/v1/things", 401},
	} {
		proof := mustProof(t, dpKey, "GET", mustURL(tc.signed), tok, "", c.Now())
		w := httptest.NewRecorder()
		behind.ServeHTTP(w, dpopRequest("GET", "http://10.0.0.7"+tc.path, "DPoP", tok, proof))
		if w.Code != tc.want {
			t.Errorf("signed %s, request %s: %d, want %d", tc.signed, tc.path, w.Code, tc.want)
		}
	}
}

// sameTarget: an htu with user info, or an opaque one, is refused.
func TestReviewSameTargetUserInfo(t *testing.T) {
	target := mustURL("https://api.example/v1/things")
	for htu, want := range map[string]bool{
		"https://api.example/v1/things":           true,
		"https://api.example/v1/things#x":         true,
		"https://user@api.example/v1/things":      false,
		"https://:@api.example/v1/things":         false,
		"https:api.example/v1/things":             false,
		"https://api.example/v1/./things":         true,
		"https://api.example/v1/things/..":        false,
		"HTTPS://API.EXAMPLE/v1/things":           true,
		"https://api.example:/v1/things":          true,
		"https://api.example./v1/things":          false, // a trailing dot is another name to TargetURI
		"https://api.example/v1/things\x00":       false,
		"//api.example/v1/things":                 false,
		"https://api.example/v1/%2e%2e/v1/things": true,
	} {
		if got := sameTarget(htu, target); got != want {
			t.Errorf("sameTarget(%q) = %v, want %v", htu, got, want)
		}
	}
	if dpop.TargetURI(target) != "https://api.example/v1/things" {
		t.Fatal(dpop.TargetURI(target))
	}
}
