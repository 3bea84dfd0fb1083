package dpop

import "testing"

// Review of the per-scheme challenge parsing (RFC 9110 §11.6.1).
func TestReviewChallengeAsksNonce(t *testing.T) {
	for c, want := range map[string]bool{
		`DPoP error="use_dpop_nonce"`:                                               true,
		`DPoP error=use_dpop_nonce`:                                                 true,
		`dpop ERROR="use_dpop_nonce"`:                                               true,
		`DPoP  error="use_dpop_nonce"`:                                              true,
		`DPoP error = "use_dpop_nonce"`:                                             true, // BWS around "="
		`DPoP algs="ES256", error="use_dpop_nonce"`:                                 true,
		`Bearer realm="x", DPoP error="use_dpop_nonce"`:                             true,
		`Bearer, DPoP error="use_dpop_nonce"`:                                       true,
		`Basic dXNlcjpwYXNz==, DPoP error="use_dpop_nonce"`:                         true,
		`Newauth title="a, \"b\", error=use_dpop_nonce", DPoP error=use_dpop_nonce`: true,
		`Bearer error="use_dpop_nonce", DPoP algs="ES256"`:                          false,
		`Bearer error="use_dpop_nonce"`:                                             false,
		`DPoP error_description="a, error=use_dpop_nonce"`:                          false,
		`DPoP error="invalid_dpop_proof", error_description="use_dpop_nonce"`:       false,
		`DPoPX error="use_dpop_nonce"`:                                              false,
		`Bearer realm="a b=c", error="use_dpop_nonce"`:                              false,
		`DPoP realm="x", Bearer error="use_dpop_nonce"`:                             false,
		``: false,
	} {
		if got := challengeAsksNonce(c); got != want {
			t.Errorf("challengeAsksNonce(%q) = %v, want %v", c, got, want)
		}
	}
}

func FuzzReviewChallengeAsksNonce(f *testing.F) {
	for _, s := range []string{`DPoP error="use_dpop_nonce"`, `Bearer error="x", DPoP error=use_dpop_nonce`, `"\`, `a=, ,= "`, "DPoP \"\\\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		got := challengeAsksNonce(c)
		// a value that does not name the scheme and the error cannot ask
		if got && (!containsFold(c, "dpop") || !containsFold(c, ErrorUseNonce)) {
			t.Fatalf("challengeAsksNonce(%q) = true without DPoP and %s", c, ErrorUseNonce)
		}
		parts := splitOutsideQuotes(c)
		n := len(parts) - 1
		for _, p := range parts {
			n += len(p)
		}
		if n != len(c) {
			t.Fatalf("splitOutsideQuotes(%q) lost bytes: %q", c, parts)
		}
	})
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
