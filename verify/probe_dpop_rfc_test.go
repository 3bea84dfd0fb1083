package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// Probes of the receiving side against RFC 9449 and the docs of
// VerifyDPoP / Middleware (break-dpop-docs review).

// probeHTU verifies a hand-made proof whose htu claim is htu against a
// request to target; a fresh verifier per call so jti never collides.
func probeHTU(t *testing.T, htu, target string) error {
	t.Helper()
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(ecThumbprint())
	h, cl := ecProofParts(tok, c.Now())
	cl["htu"] = htu
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.VerifyDPoP(context.Background(), tok, handProof("ES256", ecKey, h, cl), "GET", u)
	return err
}

// RFC 9449 §4.3 (9): htu compared ignoring query and fragment, after the
// normalisations every implementation agrees on.
func TestProbeDPoPHTUNormalisationHolds(t *testing.T) {
	dpFixtures(t)
	for _, tc := range []struct {
		name, htu, target string
		ok                bool
	}{
		{"default https port in htu", "https://api.example:443/v1/things", "https://api.example/v1/things", true},
		{"default http port in request", "http://api.example/v1/things", "http://api.example:80/v1/things", true},
		{"scheme and host case", "HTTPS://API.EXAMPLE/v1/things", "https://api.example/v1/things", true},
		{"IPv6 host, default port", "https://[::1]:443/v1/things", "https://[::1]/v1/things", true},
		{"IPv6 host, other port", "https://[::1]:8443/v1/things", "https://[::1]:8443/v1/things", true},
		{"IPv6 host, ports differ", "https://[::1]:8443/v1/things", "https://[::1]/v1/things", false},
		{"empty path is /", "https://api.example", "https://api.example/", true},
		{"fragment in htu ignored", "https://api.example/v1/things#x", "https://api.example/v1/things", true},
		{"trailing slash differs", "https://api.example/v1/things/", "https://api.example/v1/things", false},
		{"path case differs", "https://api.example/V1/things", "https://api.example/v1/things", false},
		{"https port on http", "http://api.example:443/v1/things", "http://api.example/v1/things", false},
		{"userinfo in htu refused", "https://u@api.example/v1/things", "https://api.example/v1/things", false},
		{"not a URL", "::", "https://api.example/v1/things", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := probeHTU(t, tc.htu, tc.target)
			if tc.ok && err != nil {
				t.Fatalf("htu %q for %q refused: %v", tc.htu, tc.target, err)
			}
			if !tc.ok && !errors.Is(err, authorizer.ErrTokenDPoPProof) {
				t.Fatalf("htu %q for %q: err = %v; want ErrTokenDPoPProof", tc.htu, tc.target, err)
			}
		})
	}
}

// RFC 9449 §4.3 (9) says servers SHOULD apply RFC 3986 §6.2.2 syntax-based
// and §6.2.3 scheme-based normalisation before comparing htu.
func TestProbeDPoPHTUSyntaxNormalisation(t *testing.T) {
	dpFixtures(t)
	var failed []string
	for _, tc := range []struct{ name, htu, target string }{
		{"percent-encoding hex case", "https://api.example/v1/a%2fb", "https://api.example/v1/a%2Fb"},
		{"encoded unreserved ~", "https://api.example/v1/%7Ethings", "https://api.example/v1/~things"},
		{"encoded unreserved letter", "https://api.example/v1/%74hings", "https://api.example/v1/things"},
		{"empty port", "https://api.example:/v1/things", "https://api.example/v1/things"},
		{"dot segment", "https://api.example/v1/./things", "https://api.example/v1/things"},
	} {
		if err := probeHTU(t, tc.htu, tc.target); err != nil {
			failed = append(failed, fmt.Sprintf("%s (htu %q, request %q)", tc.name, tc.htu, tc.target))
		}
	}
	if len(failed) > 0 {
		t.Fatal("regression of a fixed finding (low): verify/dpop.go:116 sameTarget / dpop/proof.go:141 TargetURI do no RFC 3986 §6.2.2/§6.2.3 normalisation " +
			"(RFC 9449 §4.3 SHOULD); refused: " + strings.Join(failed, "; "))
	}
}

// iat window edges: exactly DefaultDPoPProofAge old and exactly the leeway
// ahead pass; one second more fails. Also a fractional NumericDate.
func TestProbeDPoPIatEdges(t *testing.T) {
	dpFixtures(t)
	for _, tc := range []struct {
		name string
		iat  any
		ok   bool
	}{
		{"age exactly", -DefaultDPoPProofAge, true},
		{"age +1s", -DefaultDPoPProofAge - time.Second, false},
		{"ahead exactly leeway", DefaultNotBeforeLeeway, true},
		{"ahead leeway +1s", DefaultNotBeforeLeeway + time.Second, false},
		{"fractional now", "frac", true},
		{"negative", "neg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			v := newDPoPVerifier(t, c)
			tok := boundToken(ecThumbprint())
			h, cl := ecProofParts(tok, c.Now())
			switch d := tc.iat.(type) {
			case time.Duration:
				cl["iat"] = c.Now().Add(d).Unix()
			case string:
				if d == "frac" {
					cl["iat"] = float64(c.Now().Unix()) + 0.5
				} else {
					cl["iat"] = -1
				}
			}
			_, err := v.VerifyDPoP(context.Background(), tok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
		})
	}
}

// ath is exactly base64url(SHA-256(token)): padded or otherwise altered
// spellings are refused.
func TestProbeDPoPAthExact(t *testing.T) {
	dpFixtures(t)
	tok := boundToken(ecThumbprint())
	good := dpop.AccessTokenHash(tok)
	for _, ath := range []any{good + "=", strings.ToUpper(good), " " + good, good[:len(good)-1], 1, nil} {
		c := newClock()
		v := newDPoPVerifier(t, c)
		h, cl := ecProofParts(tok, c.Now())
		cl["ath"] = ath
		if ath == nil {
			delete(cl, "ath")
		}
		_, err := v.VerifyDPoP(context.Background(), tok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
		if !errors.Is(err, authorizer.ErrTokenDPoPProof) {
			t.Errorf("ath %v: err = %v; want ErrTokenDPoPProof", ath, err)
		}
	}
}

// Header forms RFC 9449 §4.2 allows: a jwk with extra public members
// (kid, alg, use), a kid in the JOSE header. RFC 9449 forbids nothing
// else; x5c is refused by this verifier (stricter, documented nowhere).
func TestProbeDPoPJWKForms(t *testing.T) {
	dpFixtures(t)
	try := func(edit func(h map[string]any)) error {
		c := newClock()
		v := newDPoPVerifier(t, c)
		tok := boundToken(ecThumbprint())
		h, cl := ecProofParts(tok, c.Now())
		edit(h)
		_, err := v.VerifyDPoP(context.Background(), tok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
		return err
	}
	if err := try(func(h map[string]any) {
		j := h["jwk"].(map[string]any)
		j["kid"], j["alg"], j["use"] = "k1", "ES256", "sig"
	}); err != nil {
		t.Errorf("jwk with kid/alg/use refused: %v", err)
	}
	if err := try(func(h map[string]any) { h["kid"] = "k1" }); err != nil {
		t.Errorf("header kid refused: %v", err)
	}
	if err := try(func(h map[string]any) { h["jwk"].(map[string]any)["crv"] = "P-384" }); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("P-384 jwk under ES256: %v", err)
	}
	if err := try(func(h map[string]any) { h["crit"] = []string{"exp"} }); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("crit accepted: %v", err)
	}
}

// RFC 9449 §6 / RFC 7800: a cnf claim binds the token to a key. A token
// whose cnf names a key another way (RFC 8705 x5t#S256, mTLS) is bound
// too; a verifier that cannot check that binding must not accept it as a
// plain bearer token.
func TestProbeDPoPCnfStrictness(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	v := newDPoPVerifier(t, c)
	for _, tc := range []struct {
		name string
		cnf  any
	}{
		{"jkt empty", map[string]any{"jkt": ""}},
		{"jkt number", map[string]any{"jkt": 7}},
		{"cnf a string", "abc"},
		{"cnf an array", []string{"abc"}},
	} {
		tok := token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", tc.cnf))
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("%s: accepted as Bearer", tc.name)
		}
	}
	mtls := token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}))
	if _, err := v.Verify(context.Background(), mtls); err == nil {
		t.Fatal("regression of a fixed finding (low; named in docs/readme/dpop-verify.md but not in Verify's doc): verify/claims.go:149 confirmationJKT / " +
			"verifier.go:133: a token with a cnf claim but no jkt (RFC 8705 cnf.x5t#S256, certificate-bound) is accepted by Verify " +
			"as a plain bearer token, so its binding is silently dropped (RFC 8705 §3 requires the RS to check it). Refuse any cnf " +
			"holding no confirmation method the verifier checks (TokenDPoPBinding), or name the exception in Verify's doc.")
	}
}

// jti: 256 bytes pass, a replay of the same (key, jti) is refused with
// TokenDPoPReplay, the same jti under another key is another proof.
func TestProbeDPoPJTI(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(ecThumbprint())
	h, cl := ecProofParts(tok, c.Now())
	cl["jti"] = strings.Repeat("j", maxJTISize)
	p := handProof("ES256", ecKey, h, cl)
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); err != nil {
		t.Fatalf("256-byte jti refused: %v", err)
	}
	cl["iat"] = c.Now().Unix() - 1 // a new signature, same jti
	_, err := v.VerifyDPoP(context.Background(), tok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
	if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("same jti, new proof: err = %v; want ErrTokenDPoPReplay", err)
	}
	var bad *authorizer.InvalidTokenError
	if !errors.As(err, &bad) || bad.Temporary() {
		t.Errorf("replay error %T Temporary=%v; want a non-temporary InvalidTokenError", err, bad != nil && bad.Temporary())
	}
	// After the window the jti is forgotten: the proof would be too old anyway.
	c.Add(DefaultDPoPProofAge + 2*time.Second)
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("old proof after window: %v; want ErrTokenDPoPProof (iat too old)", err)
	}
}

// RFC 9449 §7.1: every DPoP challenge has algs; error codes are
// invalid_token / invalid_dpop_proof / use_dpop_nonce; §9: DPoP-Nonce on
// every response once nonces are on (200, 401, 400, 403).
func TestProbeDPoPChallengesAndNonceHeader(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	secret := []byte(strings.Repeat("s", MinDPoPNonceSecret))
	v := newDPoPVerifier(t, c, WithDPoPNonces(secret, time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	target := "http://api.example/v1/things"
	h := Middleware(v, InsecureTrustHostHeader(), RequireScope("read"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	nonce := v.DPoPNonce()
	if !dpop.ValidNonce(nonce) {
		t.Fatalf("nonce %q is not NQCHAR", nonce)
	}
	cases := []struct {
		name  string
		req   *http.Request
		code  int
		param string
	}{
		{"no nonce", dpopRequest("GET", target, "DPoP", tok, mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())), 401, `error="use_dpop_nonce"`},
		{"bad proof", dpopRequest("GET", target, "DPoP", tok, "x.y.z"), 401, `error="invalid_dpop_proof"`},
		{"malformed", func() *http.Request {
			r := dpopRequest("GET", target, "DPoP", tok)
			r.Header.Add("Authorization", "Bearer x")
			return r
		}(), 400, `error="invalid_request"`},
		{"no token", dpopRequest("GET", target, "", ""), 401, ""},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tc.req)
		if rec.Code != tc.code {
			t.Errorf("%s: status %d; want %d", tc.name, rec.Code, tc.code)
		}
		if got := rec.Header().Get(dpop.NonceHeader); got != nonce {
			t.Errorf("%s: DPoP-Nonce %q; want %q", tc.name, got, nonce)
		}
		var dp string
		for _, ch := range rec.Header().Values("WWW-Authenticate") {
			if strings.HasPrefix(ch, "DPoP") {
				dp = ch
			}
		}
		if !strings.Contains(dp, `algs="ES256 EdDSA"`) || !strings.Contains(dp, tc.param) {
			t.Errorf("%s: DPoP challenge %q; want algs and %s", tc.name, dp, tc.param)
		}
	}
	// The nonce flow end to end: the nonce of the 401 makes the next proof pass.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, dpopRequest("GET", target, "DPoP", tok, mustProof(t, dpKey, "GET", mustURL(target), tok, nonce, c.Now())))
	if rec.Code != 403 { // scope "read" missing from goodClaims? then 403 is also DPoP-Nonce'd
		if rec.Code != 200 {
			t.Errorf("with nonce: status %d", rec.Code)
		}
	}
	if rec.Header().Get(dpop.NonceHeader) != nonce {
		t.Error("no DPoP-Nonce on a passing/403 response")
	}
}

// Options: each invalid DPoP option is an InvalidConfigError naming it.
func TestProbeDPoPOptionsNamed(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"WithDPoPAlgorithms", WithDPoPAlgorithms()},
		{"WithDPoPAlgorithms", WithDPoPAlgorithms("none")},
		{"WithDPoPAlgorithms", WithDPoPAlgorithms("HS256")},
		{"WithDPoPProofAge", WithDPoPProofAge(0)},
		{"WithDPoPProofAge", WithDPoPProofAge(-time.Second)},
		{"WithDPoPReplayCacheSize", WithDPoPReplayCacheSize(0)},
		{"WithDPoPNonces", WithDPoPNonces(make([]byte, MinDPoPNonceSecret-1), time.Minute)},
		{"WithDPoPNonces", WithDPoPNonces(make([]byte, MinDPoPNonceSecret), time.Second-1)},
		{"WithDPoPNonces", WithDPoPNonces(nil, time.Minute)},
	} {
		dpFixtures(t)
		_, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{Issuer: testIssuer, Audience: []string{testAudience}}, tc.opt)
		var ice *authorizer.InvalidConfigError
		if !errors.As(err, &ice) || !strings.Contains(ice.Setting+ice.Problem, tc.name) {
			t.Errorf("%s: err = %v; want InvalidConfigError naming it", tc.name, err)
		}
	}
}

// No secret in any error or its %+v / %#v: token, proof, nonce secret.
func TestProbeDPoPErrorsHoldNoSecret(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	secret := []byte("0123456789abcdef0123456789abcdef-nonce-secret")
	v := newDPoPVerifier(t, c, WithDPoPNonces(secret, time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	proofs := []string{
		mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()),
		mustProof(t, dpKey, "POST", dpTarget, tok, v.DPoPNonce(), c.Now()),
		mustProof(t, dpKey2, "GET", dpTarget, tok, v.DPoPNonce(), c.Now()),
	}
	for _, p := range proofs {
		_, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget)
		if err == nil {
			t.Fatal("accepted")
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, part := range append(strings.Split(tok, "."), strings.Split(p, ".")...) {
				if len(part) >= 8 && strings.Contains(s, part) {
					t.Errorf("error %q holds part of token or proof", s)
				}
			}
		}
	}
	for _, s := range []string{fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v)} {
		if strings.Contains(s, string(secret[:16])) {
			t.Errorf("Verifier print holds the nonce secret")
		}
	}
}
