package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// Hostile DPoP clients against VerifyDPoP and Middleware.

// malleate returns proof with its ECDSA signature (r, s) respelt as
// (r, n-s): still a valid signature, a new string.
func malleate(t *testing.T, proof string) string {
	t.Helper()
	i := strings.LastIndexByte(proof, '.')
	sig, err := base64.RawURLEncoding.DecodeString(proof[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v", err)
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:]))
	out := make([]byte, 64)
	copy(out, sig[:32])
	s.FillBytes(out[32:])
	return proof[:i+1] + base64.RawURLEncoding.EncodeToString(out)
}

// A proof respelt by ECDSA malleability is the same jti by the same key:
// the replay cache keys on (jkt, jti), not on the proof's bytes, so the
// replay is caught.
func TestAttackDPoPMalleableSignatureReplay(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	p := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	m := malleate(t, p)
	if m == p {
		t.Fatal("malleate did nothing")
	}
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); err != nil {
		t.Fatalf("original refused: %v", err)
	}
	_, err := v.VerifyDPoP(context.Background(), tok, m, "GET", dpTarget)
	if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("malleated replay: err = %v; want a replay", err)
	}
	// The malleated spelling alone (first) is a valid proof: high-s is accepted.
	v2 := newDPoPVerifier(t, c)
	if _, err := v2.VerifyDPoP(context.Background(), tok, m, "GET", dpTarget); err != nil {
		t.Logf("note: high-s spelling refused: %v", err)
	}
	// Replay with a re-encoded header or payload (JSON whitespace) is a
	// new signature input: it does not verify.
}

// A jti seen with one key is replayed with another key (a token bound to
// that other key): per RFC 9449 §11.1 a jti is unique per key, so this is
// accepted, and the first key's jti stays refused. Another URL with the
// same jti and key is a replay.
func TestAttackDPoPJTIReuseAcrossKeys(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	now := c.Now()
	ecTok := boundToken(ecThumbprint())
	otherJKT, _ := dpop.Thumbprint(&dpOther.PublicKey)
	otherTok := boundToken(otherJKT)
	mk := func(priv *ecdsa.PrivateKey, tok, jti, htu string) string {
		j := jwkOf("", priv)
		delete(j, "kid")
		return handProof("ES256", priv, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": j},
			map[string]any{"jti": jti, "htm": "GET", "htu": htu, "iat": now.Unix(), "ath": dpop.AccessTokenHash(tok)})
	}
	ctx := context.Background()
	if _, err := v.VerifyDPoP(ctx, ecTok, mk(ecKey, ecTok, "shared", dpTarget.String()), "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyDPoP(ctx, otherTok, mk(dpOther, otherTok, "shared", dpTarget.String()), "GET", dpTarget); err != nil {
		t.Errorf("same jti by another key refused: %v", err)
	}
	other := mustURL("https://api.example/v1/other")
	if _, err := v.VerifyDPoP(ctx, ecTok, mk(ecKey, ecTok, "shared", other.String()), "GET", other); !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Errorf("same jti, same key, another URL: err = %v; want a replay", err)
	}
	// A jti that differs only in case is another jti (exact compare).
	if _, err := v.VerifyDPoP(ctx, ecTok, mk(ecKey, ecTok, "SHARED", dpTarget.String()), "GET", dpTarget); err != nil {
		t.Errorf("jti SHARED refused: %v", err)
	}
}

// kid, x5u, jku, x5c headers: jku/x5u/x5c refused, kid ignored, and
// nothing is ever fetched.
func TestAttackDPoPKeyURLsNeverFetched(t *testing.T) {
	var fetched atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer srv.Close()
	c := newClock()
	v := newDPoPVerifier(t, c)
	ecTok := boundToken(ecThumbprint())
	for _, tc := range []struct {
		name   string
		edit   func(h map[string]any)
		accept bool
	}{
		{"kid ignored", func(h map[string]any) { h["kid"] = srv.URL + "/kid" }, true},
		{"kid inside jwk ignored", func(h map[string]any) { h["jwk"].(map[string]any)["kid"] = "k1" }, true},
		{"x5u", func(h map[string]any) { h["x5u"] = srv.URL + "/x5u" }, false},
		{"jku", func(h map[string]any) { h["jku"] = srv.URL + "/jku" }, false},
		{"x5c", func(h map[string]any) { h["x5c"] = []string{"MIIB"} }, false},
		{"crit", func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }, false},
		{"jku and no jwk", func(h map[string]any) { h["jku"] = srv.URL + "/jku"; delete(h, "jwk") }, false},
		{"x5u inside jwk", func(h map[string]any) { h["jwk"].(map[string]any)["x5u"] = srv.URL + "/x5u" }, true},
		{"b64 false", func(h map[string]any) { h["b64"] = false }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cl := ecProofParts(ecTok, c.Now())
			cl["jti"] = "jti-" + tc.name
			tc.edit(h)
			_, err := v.VerifyDPoP(context.Background(), ecTok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
			if tc.accept && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tc.accept && !errors.Is(err, authorizer.ErrTokenDPoPProof) {
				t.Errorf("err = %v; want a proof refusal", err)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("a proof header made the verifier fetch %d times", n)
	}
}

// A proof's jwk that does not fit its alg, or is no valid public key, is
// refused: RSA with ES256, EC P-384 with ES256, a point off the curve,
// small-order Ed25519, short coordinates, a symmetric key.
func TestAttackDPoPJWKMismatch(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPAlgorithms("ES256", "EdDSA", "ES384", "RS256"))
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	b64 := base64.RawURLEncoding.EncodeToString
	rsaJWK := jwkOf("", rsaKey(1))
	delete(rsaJWK, "kid")
	ecJ := jwkOf("", ecKey)
	small := make([]byte, 32)
	small[0] = 1 // the identity point
	for _, tc := range []struct {
		name string
		alg  string
		jwk  map[string]any
	}{
		{"RSA jwk, ES256", "ES256", rsaJWK},
		{"EC P-256 jwk, RS256", "RS256", map[string]any{"kty": "EC", "crv": "P-256", "x": ecJ["x"], "y": ecJ["y"]}},
		{"P-384 jwk, ES256", "ES256", func() map[string]any {
			b, _ := p384.PublicKey.Bytes()
			return map[string]any{"kty": "EC", "crv": "P-384", "x": b64(b[1:49]), "y": b64(b[49:])}
		}()},
		{"P-384 coordinates called P-256", "ES256", func() map[string]any {
			b, _ := p384.PublicKey.Bytes()
			return map[string]any{"kty": "EC", "crv": "P-256", "x": b64(b[1:49]), "y": b64(b[49:])}
		}()},
		{"point off the curve", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": ecJ["x"], "y": b64(make([]byte, 32))}},
		{"zero point", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))}},
		{"short x", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": b64([]byte{1}), "y": ecJ["y"]}},
		{"x with padding", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": ecJ["x"].(string) + "=", "y": ecJ["y"]}},
		{"kty case", "ES256", map[string]any{"kty": "ec", "crv": "P-256", "x": ecJ["x"], "y": ecJ["y"]}},
		{"small-order Ed25519", "EdDSA", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(small)}},
		{"zero Ed25519", "EdDSA", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(make([]byte, 32))}},
		{"X25519 as EdDSA", "EdDSA", map[string]any{"kty": "OKP", "crv": "X25519", "x": b64(make([]byte, 32))}},
		{"oct", "ES256", map[string]any{"kty": "oct", "k": "c2VjcmV0"}},
		{"jwk with d", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": ecJ["x"], "y": ecJ["y"], "d": "AAAA"}},
		{"jwk with escaped d", "ES256", map[string]any{"kty": "EC", "crv": "P-256", "x": ecJ["x"], "y": ecJ["y"], "\u0064": "AAAA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cl := ecProofParts("", c.Now())
			h["alg"], h["jwk"] = tc.alg, tc.jwk
			// Signed by ecKey (ES256) or, for RS256, rsa: the jwk is the lie.
			var proof string
			if tc.alg == "RS256" {
				proof = handProof("RS256", rsaKey(1), h, cl)
			} else {
				proof = handProof("ES256", ecKey, h, cl)
			}
			_, err := v.VerifyDPoP(context.Background(), boundToken(ecThumbprint()), proof, "GET", dpTarget)
			var bad *authorizer.InvalidTokenError
			if !errors.As(err, &bad) || !errors.Is(err, authorizer.ErrTokenDPoPProof) || !strings.Contains(bad.Detail, "jwk") {
				t.Errorf("err = %v; want a proof refusal for its jwk", err)
			}
		})
	}
	// A jwk member escaped as \u0064 ("d") in the raw JSON.
	t.Run("raw escaped d", func(t *testing.T) {
		_, cl := ecProofParts("", c.Now())
		h := `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + ecJ["x"].(string) + `","y":"` + ecJ["y"].(string) + `","\u0064":"AAAA"}}`
		proof := signRaw("ES256", rawSeg(h)+"."+seg(cl), ecKey)
		if _, err := v.VerifyDPoP(context.Background(), boundToken(ecThumbprint()), proof, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
			t.Errorf("err = %v; want a proof refusal", err)
		}
	})
}

// Huge, deeply nested, many-membered, duplicated proofs: refused with a
// typed error, no panic, nothing recorded.
func TestAttackDPoPHostileJSON(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(1))
	ecTok := boundToken(ecThumbprint())
	jw := jwkOf("", ecKey)
	delete(jw, "kid")
	jwkJSON := mustJSON(jw)
	good := func(extra string) string {
		return `{"jti":"j` + extra[:min(len(extra), 5)] + `","htm":"GET","htu":"` + dpTarget.String() + `","iat":` + mustJSON(c.Now().Unix()) + `,"ath":"` + dpop.AccessTokenHash(ecTok) + `"` + extra + `}`
	}
	head := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwkJSON + `}`
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	many := ""
	for i := 0; i < 200; i++ {
		many += `,"m` + mustJSON(i) + `":1`
	}
	for _, tc := range []struct{ name, header, claims string }{
		{"nested 33 in claims", head, good(`,"x":` + nest(33))},
		{"nested 3000 in claims", head, good(`,"x":` + nest(3000))},
		{"nested 2000 in header", `{"typ":"dpop+jwt","alg":"ES256","x":` + nest(2000) + `,"jwk":` + jwkJSON + `}`, good("")},
		{"nested objects in jwk", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","o":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat("}", 100) + `}}`, good("")},
		{"200 members", head, good(many)},
		{"duplicate jti differing in case", head, good(`,"JTI":"other"`)},
		{"duplicate typ", `{"typ":"dpop+jwt","Typ":"JWT","alg":"ES256","jwk":` + jwkJSON + `}`, good("")},
		{"jwk duplicate crv case", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","CRV":"P-384","x":"` + jw["x"].(string) + `","y":"` + jw["y"].(string) + `"}}`, good("")},
		{"trailing data", head, good("") + `{}`},
		{"NUL in claims", head, strings.Replace(good(""), `"GET"`, `"GET\u0000"`, 1)},
		{"invalid UTF-8", head, good("") + "\xff"},
		{"not an object", head, `[1]`},
		{"lone surrogate htm", head, strings.Replace(good(""), `"GET"`, `"\ud800"`, 1)},
		{"big number iat", head, strings.Replace(good(""), `"iat":`+mustJSON(c.Now().Unix()), `"iat":1`+strings.Repeat("0", 400), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proof := signRaw("ES256", rawSeg(tc.header)+"."+rawSeg(tc.claims), ecKey)
			if len(proof) > MaxDPoPProofSize {
				t.Logf("proof is %d bytes: refused before decoding", len(proof))
			}
			_, err := v.VerifyDPoP(context.Background(), ecTok, proof, "GET", dpTarget)
			if !errors.Is(err, authorizer.ErrTokenDPoPProof) {
				t.Errorf("err = %v; want a proof refusal", err)
			}
		})
	}
	// Nothing refused was recorded: a size-1 cache still takes a good proof.
	h, cl := ecProofParts(ecTok, c.Now())
	if _, err := v.VerifyDPoP(context.Background(), ecTok, handProof("ES256", ecKey, h, cl), "GET", dpTarget); err != nil {
		t.Errorf("good proof after the refused ones: %v", err)
	}
}

// iat far in the future, past, negative, a float, huge, an exponent.
func TestAttackDPoPIatGames(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	ecTok := boundToken(ecThumbprint())
	now := c.Now().Unix()
	for i, tc := range []struct {
		name   string
		iat    string
		accept bool
	}{
		{"now", mustJSON(now), true},
		{"float now", mustJSON(now) + ".9", true},
		{"exponent now", "1.8e9", true},
		{"negative", "-1", false},
		{"negative zero", "-0", false},
		{"zero", "0", false},
		{"far future", mustJSON(now + 86400*365), false},
		{"huge int", "9223372036854775807", false},
		{"beyond int64", "92233720368547758070", false},
		{"1e300", "1e300", false},
		{"float far past", "1.5", false},
		{"null", "null", false},
		{"true", "true", false},
		{"leading zeros", "0" + mustJSON(now), false},
		{"plus sign", "+" + mustJSON(now), false},
		{"hex", "0x6B49D200", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := ecProofParts(ecTok, c.Now())
			cl := `{"jti":"iat-` + mustJSON(i) + `","htm":"GET","htu":"` + dpTarget.String() + `","iat":` + tc.iat + `,"ath":"` + dpop.AccessTokenHash(ecTok) + `"}`
			_, err := v.VerifyDPoP(context.Background(), ecTok, signRaw("ES256", seg(h)+"."+rawSeg(cl), ecKey), "GET", dpTarget)
			if tc.accept != (err == nil) {
				t.Errorf("iat %s: err = %v; want accept=%v", tc.iat, err, tc.accept)
			}
		})
	}
}

// htu games: user info, fragment, query, case, IDN, dots, encodings.
func TestAttackDPoPHTUGames(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	ecTok := boundToken(ecThumbprint())
	for i, tc := range []struct {
		name, htu string
		accept    bool
	}{
		{"exact", "https://api.example/v1/things", true},
		{"scheme and host upper case", "HTTPS://API.EXAMPLE/v1/things", true},
		{"explicit default port", "https://api.example:443/v1/things", true},
		{"fragment", "https://api.example/v1/things#frag", true},
		{"query", "https://api.example/v1/things?a=1", true},
		{"path case", "https://api.example/V1/things", false},
		{"trailing slash", "https://api.example/v1/things/", false},
		{"dot segment (RFC 9449 §4.3 normalisation)", "https://api.example/v1/x/../things", true},
		{"percent-encoded letter (normalised)", "https://api.example/v1/%74hings", true},
		{"encoded slash", "https://api.example/v1%2Fthings", false},
		{"trailing dot host", "https://api.example./v1/things", false},
		{"IDN look-alike", "https://аpi.example/v1/things", false},
		{"punycode", "https://xn--pi-7ld.example/v1/things", false},
		{"other port", "https://api.example:8443/v1/things", false},
		{"http", "http://api.example/v1/things", false},
		{"no scheme", "//api.example/v1/things", false},
		{"relative", "/v1/things", false},
		{"space", "https://api.example/v1/things ", false},
		{"backslash host", `https://evil.example\@api.example/v1/things`, false},
		{"empty port (normalised)", "https://api.example:/v1/things", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cl := ecProofParts(ecTok, c.Now())
			cl["jti"], cl["htu"] = "htu-"+mustJSON(i), tc.htu
			_, err := v.VerifyDPoP(context.Background(), ecTok, handProof("ES256", ecKey, h, cl), "GET", dpTarget)
			if tc.accept != (err == nil) {
				t.Errorf("htu %q: err = %v; want accept=%v", tc.htu, err, tc.accept)
			}
		})
	}
}

// htu with user info names another URI than the request's (RFC 3986
// §3.2.1), yet it is accepted: sameTarget normalises both through
// dpop.TargetURI, which drops u.User.
func TestAttackDPoPHTUUserInfo(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	ecTok := boundToken(ecThumbprint())
	h, cl := ecProofParts(ecTok, c.Now())
	cl["htu"] = "https://attacker:pw@api.example/v1/things"
	if _, err := v.VerifyDPoP(context.Background(), ecTok, handProof("ES256", ecKey, h, cl), "GET", dpTarget); err == nil {
		t.Fatal("regression of a fixed finding (low): a proof whose htu is https://attacker:pw@api.example/v1/things is accepted for " +
			"https://api.example/v1/things: verify/dpop.go:116 sameTarget parses htu and compares dpop.TargetURI, which drops user info " +
			"(dpop/proof.go:141). Not a key or host bypass, but the proof's htu is not the request's URI and one proof has many spellings. " +
			"Fix: in sameTarget refuse u.User != nil (and u.Opaque != \"\").")
	}
}

// The Host header is the client's to choose: a proof made for another
// service (htu https://other.example/v1/things, captured there together
// with its token, when both services accept the token's audience) must not
// pass here with Host: other.example. The default Middleware knows no
// origin and refuses DPoP; with WithExternalOrigin the Host is ignored.
func TestAttackDPoPMiddlewareSpoofedHost(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	h := Middleware(v)(dpopHandler(t))
	// The proof the victim made for the other service.
	stolen := mustProof(t, dpKey, "GET", mustURL("http://other.example/v1/things"), tok, "", c.Now())
	r := dpopRequest("GET", "http://api.example/v1/things", "DPoP", tok, stolen)
	r.Host = "other.example"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("the default Middleware (no WithExternalOrigin) answered %d to a proof for another host; want 401", w.Code)
	}
	// With WithExternalOrigin the spoofed Host is ignored.
	w = httptest.NewRecorder()
	Middleware(v, WithExternalOrigin("http://api.example"))(dpopHandler(t)).ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("with WithExternalOrigin: %d; want 401", w.Code)
	}
}

// Authorization header games against the Middleware.
func TestAttackDPoPMiddlewareSchemes(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	target := "http://api.example/v1/things"
	p := func() string { return mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now()) }
	h := Middleware(v, InsecureTrustHostHeader())(dpopHandler(t))
	only := Middleware(v, InsecureTrustHostHeader(), RequireDPoP())(dpopHandler(t))
	for _, tc := range []struct {
		name string
		h    http.Handler
		req  func() *http.Request
		want int
	}{
		{"lower-case dpop scheme", h, func() *http.Request { return dpopRequest("GET", target, "dpop", tok, p()) }, 200},
		{"two spaces", h, func() *http.Request { return dpopRequest("GET", target, "DPoP ", tok, p()) }, 200},
		{"two tokens", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok+" "+tok, p()) }, 401},
		{"token with comma", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok+","+tok, p()) }, 401},
		{"two DPoP headers", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok, p(), p()) }, 401},
		{"two proofs in one header", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok, p()+", "+p()) }, 401},
		{"no proof", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok) }, 401},
		{"empty proof", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", tok, "") }, 401},
		{"bound token as Bearer with a proof", h, func() *http.Request { return dpopRequest("GET", target, "Bearer", tok, p()) }, 401},
		{"bound token as bearer lower case", h, func() *http.Request { return dpopRequest("GET", target, "bearer", tok) }, 401},
		{"Bearer and DPoP Authorization", h, func() *http.Request {
			r := dpopRequest("GET", target, "DPoP", tok, p())
			r.Header.Add("Authorization", "Bearer "+unbound)
			return r
		}, 400},
		{"unbound as DPoP", h, func() *http.Request {
			return dpopRequest("GET", target, "DPoP", unbound, mustProof(t, dpKey, "GET", mustURL(target), unbound, "", c.Now()))
		}, 401},
		{"unbound as Bearer, RequireDPoP", only, func() *http.Request { return dpopRequest("GET", target, "Bearer", unbound) }, 401},
		{"DPoP scheme, no token", h, func() *http.Request { return dpopRequest("GET", target, "DPoP", "", p()) }, 400},
		{"DPoPx scheme", h, func() *http.Request { return dpopRequest("GET", target, "DPoPx", tok, p()) }, 401},
		{"proof for POST on GET", h, func() *http.Request {
			return dpopRequest("GET", target, "DPoP", tok, mustProof(t, dpKey, "POST", mustURL(target), tok, "", c.Now()))
		}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, tc.req())
			if w.Code != tc.want {
				t.Errorf("status %d; want %d (WWW-Authenticate %q)", w.Code, tc.want, w.Header().Values("WWW-Authenticate"))
			}
			if strings.Contains(w.Body.String(), tok) || strings.Contains(strings.Join(w.Header().Values("WWW-Authenticate"), " "), tok) {
				t.Error("the answer quotes the token")
			}
		})
	}
}

// Replay-cache exhaustion: a full cache refuses with 503 and Retry-After
// (fail closed, never forgetting a live jti), and refused proofs never
// take a slot.
func TestAttackDPoPReplayCacheExhaustion(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(3))
	tok := boundToken(dpKey.Thumbprint())
	target := "http://api.example/v1/things"
	h := Middleware(v, InsecureTrustHostHeader())(dpopHandler(t))
	serve := func(proof string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, dpopRequest("GET", target, "DPoP", tok, proof))
		return w
	}
	for i := 0; i < 50; i++ { // bad proofs: no slot taken
		serve(mustProof(t, dpKey, "POST", mustURL(target), tok, "", c.Now()))
	}
	var first string
	for i := 0; i < 3; i++ {
		p := mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())
		if i == 0 {
			first = p
		}
		if w := serve(p); w.Code != 200 {
			t.Fatalf("proof %d: %d", i, w.Code)
		}
	}
	w := serve(mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now()))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("full cache: %d Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := serve(first); w.Code == 200 {
		t.Error("a live jti was forgotten to make room")
	}
	c.Add(DefaultDPoPProofAge + 2*time.Second)
	if w := serve(mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())); w.Code != 200 {
		t.Errorf("after the window: %d", w.Code)
	}
}

// One authenticated client can fill the one global replay cache: every
// other client's DPoP requests then get 503 until its entries age out.
func TestAttackDPoPReplayCacheOneClientStarvesAll(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(16))
	mine := boundToken(dpKey.Thumbprint())
	theirs := boundToken(dpKey2.Thumbprint())
	accepted := 0
	for i := 0; i < 16; i++ {
		_, err := v.VerifyDPoP(context.Background(), mine, mustProof(t, dpKey, "GET", dpTarget, mine, "", c.Now()), "GET", dpTarget)
		if errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted++
	}
	if accepted != 16/4 {
		t.Fatalf("one key had %d live proofs accepted in a cache of 16; want its quarter, 4", accepted)
	}
	for i := 0; i < 2; i++ {
		_, err := v.VerifyDPoP(context.Background(), theirs, mustProof(t, dpKey2, "GET", dpTarget, theirs, "", c.Now()), "GET", dpTarget)
		if err != nil {
			t.Fatalf("other client after one key flooded: %v", err)
		}
	}
}

// Careless callers of VerifyDPoP: a nil URL, an empty method, a nil
// context: a typed error, no panic.
func TestAttackDPoPVerifyCareless(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	p := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", nil); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("nil URL: %v", err)
	}
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("empty method: %v", err)
	}
	//lint:ignore SA1012 a nil context on purpose
	if _, err := v.VerifyDPoP(nil, tok, p, "GET", dpTarget); err == nil { //nolint:staticcheck
		t.Error("nil ctx accepted")
	}
	if _, err := v.VerifyDPoP(context.Background(), "", p, "GET", dpTarget); err == nil {
		t.Error("empty token accepted")
	}
	// None of these recorded the jti: the proof is still good once.
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); err != nil {
		t.Errorf("the proof after the careless calls: %v", err)
	}
}

// A token bound by a confirmation method verify cannot check (RFC 8705
// x5t#S256, RFC 7800 jwk/kid/jku) is accepted as a bearer token: a stolen
// certificate-bound token works here for anyone.
func TestAttackDPoPOtherConfirmationAsBearer(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	accepted := []string{}
	for _, cnf := range []map[string]any{
		{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
		{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}},
		{"kid": "k1"},
		{"jku": "https://issuer.example/keys"},
	} {
		_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", cnf)))
		if err == nil {
			for k := range cnf {
				accepted = append(accepted, k)
			}
		}
	}
	if len(accepted) > 0 {
		t.Fatal("a token whose cnf names a confirmation method other than jkt (" + strings.Join(accepted, ", ") +
			") is accepted as a bearer token by Verifier.Verify / Middleware (verify/claims.go:149 confirmationJKT skips other " +
			"members; verify/verifier.go:133 refuses only cnf.jkt). Such a token is sender-constrained by its issuer, and accepting " +
			"it unconstrained is the downgrade the jkt rule prevents (pinned as intended by TestConfirmationClaim). " +
			"Fix: refuse a cnf with any member but jkt unless an InsecureAcceptUnverifiedConfirmation() option is set.")
	}
}

// RSA proof keys, when RS256 is allowed: a 20 000-bit modulus, a huge or
// even exponent, a zero modulus: refused before any RSA arithmetic.
func TestAttackDPoPRSAJWKBounds(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPAlgorithms("ES256", "RS256"))
	b64 := base64.RawURLEncoding.EncodeToString
	huge := make([]byte, 2500)
	huge[0] = 0xff
	huge[len(huge)-1] = 1
	n := jwkOf("", rsaKey(1))["n"]
	for _, tc := range []struct {
		name string
		jwk  map[string]any
	}{
		{"20000-bit modulus", map[string]any{"kty": "RSA", "n": b64(huge), "e": "AQAB"}},
		{"huge exponent", map[string]any{"kty": "RSA", "n": n, "e": b64(huge[:16])}},
		{"even exponent", map[string]any{"kty": "RSA", "n": n, "e": "AQAA"}},
		{"exponent 1", map[string]any{"kty": "RSA", "n": n, "e": "AQ"}},
		{"zero modulus", map[string]any{"kty": "RSA", "n": "AA", "e": "AQAB"}},
		{"empty modulus", map[string]any{"kty": "RSA", "n": "", "e": "AQAB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, cl := ecProofParts("", c.Now())
			h["alg"], h["jwk"] = "RS256", tc.jwk
			proof := handProof("RS256", rsaKey(1), h, cl)
			if len(proof) > MaxDPoPProofSize {
				t.Logf("%d bytes: refused by size", len(proof))
			}
			_, err := v.VerifyDPoP(context.Background(), boundToken("x"), proof, "GET", dpTarget)
			var bad *authorizer.InvalidTokenError
			if !errors.As(err, &bad) || !errors.Is(err, authorizer.ErrTokenDPoPProof) ||
				!(strings.Contains(bad.Detail, "jwk") || strings.Contains(bad.Detail, "8 KiB")) {
				t.Errorf("err = %v; want a proof refusal for its jwk", err)
			}
		})
	}
}

// Signature spellings other than the 64-byte R || S of RFC 7518 §3.4: an
// ASN.1 DER signature (what crypto.Signer returns), a padded one, r or s
// zero or the group order: refused.
func TestAttackDPoPSignatureSpellings(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	p := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	i := strings.LastIndexByte(p, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(p[i+1:])
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	der := func(r, s *big.Int) []byte {
		enc := func(x *big.Int) []byte {
			b := x.Bytes()
			if len(b) == 0 || b[0]&0x80 != 0 {
				b = append([]byte{0}, b...)
			}
			return append([]byte{0x02, byte(len(b))}, b...)
		}
		body := append(enc(r), enc(s)...)
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	n := elliptic.P256().Params().N
	fixed := func(r, s *big.Int) []byte {
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
	for _, tc := range []struct {
		name string
		sig  []byte
	}{
		{"DER", der(r, s)},
		{"65 bytes", append([]byte{0}, sig...)},
		{"63 bytes", sig[1:]},
		{"r zero", fixed(new(big.Int), s)},
		{"s zero", fixed(r, new(big.Int))},
		{"r + n", func() []byte {
			rn := new(big.Int).Add(r, n)
			if rn.BitLen() > 256 {
				return fixed(n, s)
			}
			return fixed(rn, s)
		}()},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := p[:i+1] + base64.RawURLEncoding.EncodeToString(tc.sig)
			if _, err := v.VerifyDPoP(context.Background(), tok, bad, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
				t.Errorf("err = %v; want a proof refusal", err)
			}
		})
	}
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); err != nil {
		t.Errorf("the good spelling after the bad ones: %v", err)
	}
}
