package dpop

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// Origin of a URL whose scheme changes byte length in lower case (the
// Kelvin sign U+212A lowers to ASCII "k"): Origin slices TargetURI's
// result at len(u.Scheme)+3, an offset into the original scheme.
func TestAttackDPoPOriginUnicodeScheme(t *testing.T) {
	u := &url.URL{Scheme: "\u212a\u212a", Host: "h"}
	panicked := func() (p bool) {
		defer func() { p = recover() != nil }()
		_ = Origin(u)
		return false
	}()
	if panicked {
		t.Fatal("regression of a fixed finding (low): dpop.Origin panics (slice bounds out of range) on a hand-built URL whose scheme holds a " +
			"character that lowers to fewer bytes (U+212A KELVIN SIGN → \"k\"): dpop/proof.go:164 slices " +
			"htu[len(u.Scheme)+3:] with the length of the original scheme. Reachable from base.Transport.RoundTrip with " +
			"a loopback host or InsecureAllowHTTP (base/policy.go:26 lets any scheme through there). " +
			"Fix: in Origin use the lowered scheme's length (strings.Index(htu, \"://\")+3), or refuse a non-ASCII scheme in TargetURI.")
	}
}

// FuzzAttackDPoPTargetURI: TargetURI and Origin take any URL fields
// without panicking; Origin is a prefix of TargetURI, and a proof that
// signs carries only printable ASCII. Run with
// go test ./dpop -run '^$' -fuzz FuzzAttackDPoPTargetURI -fuzztime 20s.
func FuzzAttackDPoPTargetURI(f *testing.F) {
	f.Add("https", "api.example:443", "/v1/things", "")
	f.Add("HTTP", "API.example:80", "", "x")
	f.Add("\u212a", "h", "/a", "")
	f.Add("https", "[::1]:443", "/%2F", "u")
	k, _ := GenerateKey()
	f.Fuzz(func(t *testing.T, scheme, host, path, user string) {
		if strings.ToLower(scheme) != scheme && len(strings.ToLower(scheme)) != len(scheme) {
			return // the known finding above
		}
		u := &url.URL{Scheme: scheme, Host: host, Path: path}
		if user != "" {
			u.User = url.User(user)
		}
		htu := TargetURI(u)
		o := Origin(u)
		if htu == "" {
			if o != "" {
				t.Fatalf("Origin %q without a TargetURI", o)
			}
			return
		}
		if !strings.HasPrefix(htu, o) || o == "" {
			t.Fatalf("Origin %q is not a prefix of %q", o, htu)
		}
		if user != "" && strings.Contains(htu, "@"+strings.ToLower(host)) && strings.Contains(o, user) {
			t.Fatalf("Origin %q holds user info", o)
		}
		p, err := k.Proof("GET", u, "tok", "", time.Unix(1_800_000_000, 0))
		if err == nil && !printable(p) {
			t.Fatalf("proof with bytes outside printable ASCII: %q", p)
		}
	})
}
