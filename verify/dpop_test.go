package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// DPoP fixtures: proof keys made once, a token bound to one of them, and
// proofs built by dpop.Key or by hand (for the proofs a Key never signs).

var (
	dpOnce        sync.Once
	dpKey, dpKey2 *dpop.Key // ES256
	dpEdKey       *dpop.Key // EdDSA
	dpOther       *ecdsa.PrivateKey
)

func dpFixtures(t testing.TB) {
	dpOnce.Do(func() {
		fixtures()
		var err error
		if dpKey, err = dpop.GenerateKey(); err != nil {
			panic(err)
		}
		if dpKey2, err = dpop.GenerateKey(); err != nil {
			panic(err)
		}
		if dpEdKey, err = dpop.NewKey(edKey); err != nil {
			panic(err)
		}
		dpOther, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
}

var dpTarget = mustURL("https://api.example/v1/things")

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// boundToken is a good token bound to jkt.
func boundToken(jkt string) string {
	return token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", map[string]any{"jkt": jkt}))
}

func newDPoPVerifier(t testing.TB, c *clock, opts ...Option) *Verifier {
	dpFixtures(t)
	return newTestVerifier(t, StaticKeys(&rsaKey(0).PublicKey), c, opts...)
}

func mustProof(t testing.TB, k *dpop.Key, method string, target *url.URL, tok, nonce string, now time.Time) string {
	t.Helper()
	p, err := k.Proof(method, target, tok, nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// handProof signs a proof with priv under alg, with header and claims as
// given (nil values delete a member).
func handProof(alg string, priv crypto.Signer, header, claims map[string]any) string {
	return signRaw(alg, seg(header)+"."+seg(claims), priv)
}

// ecProofParts are a good header and claims for a proof by ecKey.
func ecProofParts(tok string, now time.Time) (header, claims map[string]any) {
	j := jwkOf("", ecKey)
	delete(j, "kid")
	header = map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": j}
	claims = map[string]any{"jti": "jti-1", "htm": "GET", "htu": dpTarget.String(), "iat": now.Unix(), "ath": dpop.AccessTokenHash(tok)}
	return header, claims
}

func ecThumbprint() string {
	jkt, err := dpop.Thumbprint(&ecKey.PublicKey)
	if err != nil {
		panic(err)
	}
	return jkt
}

func TestVerifyDPoP(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	now := c.Now()
	tok := boundToken(dpKey.Thumbprint())
	edTok := boundToken(dpEdKey.Thumbprint())
	ecTok := boundToken(ecThumbprint())
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	expired := token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now.Unix()-3600, "cnf", map[string]any{"jkt": dpKey.Thumbprint()}))
	good := func() string { return mustProof(t, dpKey, "GET", dpTarget, tok, "", now) }
	ec := func(edit func(h, c map[string]any)) string {
		h, cl := ecProofParts(ecTok, now)
		edit(h, cl)
		return handProof("ES256", ecKey, h, cl)
	}
	type tc struct {
		name    string
		tok     string
		proof   string
		method  string
		target  *url.URL
		opts    []Option
		wantErr error
	}
	cases := []tc{
		{name: "good ES256", tok: tok, proof: good()},
		{name: "good EdDSA", tok: edTok, proof: mustProof(t, dpEdKey, "GET", dpTarget, edTok, "", now)},
		{name: "good hand-made", tok: ecTok, proof: ec(func(h, c map[string]any) {})},
		{name: "query ignored in request", tok: tok, proof: good(), target: mustURL("https://api.example/v1/things?a=b#f")},
		{name: "query ignored in htu", tok: ecTok, proof: ec(func(h, c map[string]any) { c["htu"] = dpTarget.String() + "?x=1" })},
		{name: "host case and default port normalised", tok: tok, proof: good(), target: mustURL("https://API.example:443/v1/things")},
		{name: "iat exactly the window old", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, tok, "", now.Add(-DefaultDPoPProofAge))},
		{name: "iat the leeway ahead", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, tok, "", now.Add(DefaultNotBeforeLeeway))},
		{name: "wrong htm", tok: tok, proof: good(), method: "POST", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "htm case differs", tok: tok, proof: good(), method: "get", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "htu another host", tok: tok, proof: good(), target: mustURL("https://evil.example/v1/things"), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "htu another path", tok: tok, proof: good(), target: mustURL("https://api.example/v1/other"), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "htu another scheme", tok: tok, proof: good(), target: mustURL("http://api.example/v1/things"), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "htu another port", tok: tok, proof: good(), target: mustURL("https://api.example:8443/v1/things"), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no request URL", tok: tok, proof: good(), target: &url.URL{}, wantErr: authorizer.ErrTokenDPoPProof},
		{name: "iat too old", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, tok, "", now.Add(-DefaultDPoPProofAge-time.Second)), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "iat too far ahead", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, tok, "", now.Add(DefaultNotBeforeLeeway+time.Second)), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "shorter proof age", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, tok, "", now.Add(-31*time.Second)), opts: []Option{WithDPoPProofAge(30 * time.Second)}, wantErr: authorizer.ErrTokenDPoPProof},
		{name: "ath of another token", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, unbound, "", now), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no ath", tok: tok, proof: mustProof(t, dpKey, "GET", dpTarget, "", "", now), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "jkt mismatch", tok: tok, proof: mustProof(t, dpKey2, "GET", dpTarget, tok, "", now), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "typ JWT", tok: ecTok, proof: ec(func(h, c map[string]any) { h["typ"] = "JWT" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "typ other case", tok: ecTok, proof: ec(func(h, c map[string]any) { h["typ"] = "DPoP+JWT" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no typ", tok: ecTok, proof: ec(func(h, c map[string]any) { delete(h, "typ") }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "alg none", tok: ecTok, proof: seg(map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": jwkOf("", ecKey)}) + "." + rawSeg(`{"jti":"a","htm":"GET","htu":"https://api.example/v1/things","iat":1}`) + ".AA", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "alg HS256", tok: ecTok, proof: ec(func(h, c map[string]any) {
			h["alg"] = "HS256"
			h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"}
		}), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "alg ES384 not accepted by default", tok: ecTok, proof: ec(func(h, c map[string]any) { h["alg"] = "ES384" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "alg EdDSA with an EC jwk", tok: ecTok, proof: ec(func(h, c map[string]any) { h["alg"] = "EdDSA" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "private jwk", tok: ecTok, proof: ec(func(h, c map[string]any) {
			h["jwk"].(map[string]any)["d"] = "AAAA"
		}), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "private jwk, upper-case D", tok: ecTok, proof: ec(func(h, c map[string]any) {
			h["jwk"].(map[string]any)["D"] = "AAAA"
		}), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no jwk", tok: ecTok, proof: ec(func(h, c map[string]any) { delete(h, "jwk") }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "jwk not an object", tok: ecTok, proof: ec(func(h, c map[string]any) { h["jwk"] = "key" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "jku header", tok: ecTok, proof: ec(func(h, c map[string]any) { h["jku"] = "https://evil.example/jwks" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "signed by another key than its jwk", tok: ecTok, proof: func() string {
			h, cl := ecProofParts(ecTok, now)
			return handProof("ES256", dpOther, h, cl)
		}(), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no jti", tok: ecTok, proof: ec(func(h, c map[string]any) { delete(c, "jti") }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "empty jti", tok: ecTok, proof: ec(func(h, c map[string]any) { c["jti"] = "" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "jti too long", tok: ecTok, proof: ec(func(h, c map[string]any) { c["jti"] = strings.Repeat("j", maxJTISize+1) }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "jti a number", tok: ecTok, proof: ec(func(h, c map[string]any) { c["jti"] = 7 }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "iat a string", tok: ecTok, proof: ec(func(h, c map[string]any) { c["iat"] = "1800000000" }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no iat", tok: ecTok, proof: ec(func(h, c map[string]any) { delete(c, "iat") }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no htu", tok: ecTok, proof: ec(func(h, c map[string]any) { delete(c, "htu") }), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "duplicate claim", tok: ecTok, proof: func() string {
			h, _ := ecProofParts(ecTok, now)
			cl := `{"jti":"d","htm":"GET","htm":"POST","htu":"` + dpTarget.String() + `","iat":` + mustJSON(now.Unix()) + `,"ath":"` + dpop.AccessTokenHash(ecTok) + `"}`
			return signRaw("ES256", seg(h)+"."+rawSeg(cl), ecKey)
		}(), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "duplicate header", tok: ecTok, proof: func() string {
			_, cl := ecProofParts(ecTok, now)
			h := `{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":` + mustJSON(jwkOf("", ecKey)) + `}`
			return signRaw("ES256", rawSeg(h)+"."+seg(cl), ecKey)
		}(), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "duplicate jwk member", tok: ecTok, proof: func() string {
			_, cl := ecProofParts(ecTok, now)
			j := jwkOf("", ecKey)
			h := `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"` + j["x"].(string) + `","y":"` + j["y"].(string) + `","X":"x"}}`
			return signRaw("ES256", rawSeg(h)+"."+seg(cl), ecKey)
		}(), wantErr: authorizer.ErrTokenDPoPProof},
		{name: "proof too large", tok: tok, proof: strings.Repeat("a", MaxDPoPProofSize) + ".b.c", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "two segments", tok: tok, proof: "a.b", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "no proof", tok: tok, proof: "", wantErr: authorizer.ErrTokenDPoPProof},
		{name: "unbound token with DPoP", tok: unbound, proof: mustProof(t, dpKey, "GET", dpTarget, unbound, "", now), wantErr: authorizer.ErrTokenDPoPBinding},
		{name: "expired token with a good proof", tok: expired, proof: mustProof(t, dpKey, "GET", dpTarget, expired, "", now), wantErr: authorizer.ErrTokenExpired},
	}
	// RS256 proofs: refused by default, accepted when widened.
	rsaJWK := jwkOf("", rsaKey(1))
	delete(rsaJWK, "kid")
	rsaJKT, _ := dpop.Thumbprint(&rsaKey(1).PublicKey)
	rsTok := boundToken(rsaJKT)
	rsProof := handProof("RS256", rsaKey(1), map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": rsaJWK},
		map[string]any{"jti": "rs", "htm": "GET", "htu": dpTarget.String(), "iat": now.Unix(), "ath": dpop.AccessTokenHash(rsTok)})
	cases = append(cases,
		tc{name: "RS256 refused by default", tok: rsTok, proof: rsProof, wantErr: authorizer.ErrTokenDPoPProof},
		tc{name: "RS256 when widened", tok: rsTok, proof: rsProof, opts: []Option{WithDPoPAlgorithms("ES256", "RS256")}},
		tc{name: "ES256 refused when narrowed to EdDSA", tok: tok, proof: good(), opts: []Option{WithDPoPAlgorithms("EdDSA")}, wantErr: authorizer.ErrTokenDPoPProof},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newDPoPVerifier(t, c, tc.opts...)
			method, target := "GET", dpTarget
			if tc.method != "" {
				method = tc.method
			}
			if tc.target != nil {
				target = tc.target
			}
			got, err := v.VerifyDPoP(context.Background(), tc.tok, tc.proof, method, target)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.KeyThumbprint == "" || got.Subject != "user-1" {
					t.Errorf("claims %+v", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			assertNoProofSecret(t, err, tc.tok, tc.proof)
		})
	}
}

// assertNoProofSecret fails when err's message holds a part of tok or proof.
func assertNoProofSecret(t *testing.T, err error, tok, proof string) {
	t.Helper()
	for _, s := range append(strings.Split(tok, "."), strings.Split(proof, ".")...) {
		if len(s) >= 8 && strings.Contains(err.Error(), s) {
			t.Fatalf("error message %q holds a part of the token or proof", err)
		}
	}
}

func TestVerifyRefusesBoundTokenAsBearer(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	for i := range 2 { // the second time from the verified-token cache
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, authorizer.ErrTokenDPoPBinding) {
			t.Fatalf("try %d: err = %v; want ErrTokenDPoPBinding", i, err)
		}
	}
	// The same token with its proof still passes (the cache holds it).
	if _, err := v.VerifyDPoP(context.Background(), tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
}

func TestDPoPReplay(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	p := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	ctx := context.Background()
	// A refusal for another reason does not record the jti.
	if _, err := v.VerifyDPoP(ctx, tok, p, "POST", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Fatalf("wrong method: %v", err)
	}
	if _, err := v.VerifyDPoP(ctx, tok, p, "GET", dpTarget); err != nil {
		t.Fatalf("first use refused: %v", err)
	}
	c.Add(DefaultDPoPProofAge) // still within the window
	_, err := v.VerifyDPoP(ctx, tok, p, "GET", dpTarget)
	if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("replay: err = %v; want ErrTokenDPoPReplay", err)
	}
	var ite *authorizer.InvalidTokenError
	if !errors.As(err, &ite) || ite.Temporary() {
		t.Error("a replay is not a permanent InvalidTokenError")
	}
	// The same jti under another key is another proof.
	tok2 := boundToken(ecThumbprint())
	h, cl := ecProofParts(tok2, c.Now())
	cl["jti"] = "shared-jti"
	p2 := handProof("ES256", ecKey, h, cl)
	if _, err := v.VerifyDPoP(ctx, tok2, p2, "GET", dpTarget); err != nil {
		t.Fatalf("jti under key A: %v", err)
	}
	if _, err := v.VerifyDPoP(ctx, tok2, p2, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("replay under key A: %v", err)
	}
}

func TestDPoPReplayCacheFullFailsClosed(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(2)) // under 16: no per-key share
	tok := boundToken(dpKey.Thumbprint())
	ctx := context.Background()
	// two keys, one proof each: a key may hold a quarter (here one entry)
	for i, k := range []*dpop.Key{dpKey, dpKey2} {
		bound := boundToken(k.Thumbprint())
		if _, err := v.VerifyDPoP(ctx, bound, mustProof(t, k, "GET", dpTarget, bound, "", c.Now()), "GET", dpTarget); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
	}
	fresh := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	_, err := v.VerifyDPoP(ctx, tok, fresh, "GET", dpTarget)
	var ae *authorizer.AuthorizationError
	if !errors.Is(err, authorizer.ErrDPoPReplayCacheFull) || !errors.As(err, &ae) || !ae.Temporary() || ae.RetryAfter <= 0 {
		t.Fatalf("full cache: err = %v; want a temporary ErrDPoPReplayCacheFull with RetryAfter", err)
	}
	if ae.RetryAfter > DefaultDPoPProofAge+2*time.Second {
		t.Errorf("RetryAfter %v is beyond the entries' lifetime", ae.RetryAfter)
	}
	// Once the first entries are dead, their room is reused.
	c.Add(DefaultDPoPProofAge + 2*time.Second)
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget); err != nil {
		t.Fatalf("after the entries died: %v", err)
	}
}

func TestDPoPNonces(t *testing.T) {
	c := newClock()
	secret := []byte(strings.Repeat("s", MinDPoPNonceSecret))
	v := newDPoPVerifier(t, c, WithDPoPNonces(secret, time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	ctx := context.Background()
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPNonce) {
		t.Fatalf("no nonce: err = %v; want ErrTokenDPoPNonce", err)
	}
	nonce := v.DPoPNonce()
	if !dpop.ValidNonce(nonce) {
		t.Fatalf("nonce %q is not a valid RFC 9449 nonce", nonce)
	}
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, "bogus", c.Now()), "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPNonce) {
		t.Fatalf("wrong nonce: err = %v", err)
	}
	other := newDPoPVerifier(t, c, WithDPoPNonces([]byte(strings.Repeat("t", MinDPoPNonceSecret)), time.Minute))
	if other.DPoPNonce() == nonce {
		t.Fatal("two secrets give the same nonce")
	}
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, nonce, c.Now()), "GET", dpTarget); err != nil {
		t.Fatalf("current nonce: %v", err)
	}
	c.Add(time.Minute) // the next slot: the previous nonce still passes
	if v.DPoPNonce() == nonce {
		t.Error("the nonce did not change with the slot")
	}
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, nonce, c.Now()), "GET", dpTarget); err != nil {
		t.Fatalf("previous slot's nonce: %v", err)
	}
	c.Add(time.Minute) // two slots later: stale
	if _, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, nonce, c.Now()), "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPNonce) {
		t.Fatalf("stale nonce: err = %v", err)
	}
	if newDPoPVerifier(t, c).DPoPNonce() != "" {
		t.Error("DPoPNonce without WithDPoPNonces")
	}
}

func TestDPoPOptionErrors(t *testing.T) {
	secret := []byte(strings.Repeat("s", MinDPoPNonceSecret))
	for _, tc := range []struct {
		name    string
		opt     Option
		setting string
	}{
		{"no algorithms", WithDPoPAlgorithms(), "verify.WithDPoPAlgorithms"},
		{"alg none", WithDPoPAlgorithms("ES256", "none"), "verify.WithDPoPAlgorithms"},
		{"alg HS256", WithDPoPAlgorithms("HS256"), "verify.WithDPoPAlgorithms"},
		{"alg lower case", WithDPoPAlgorithms("es256"), "verify.WithDPoPAlgorithms"},
		{"proof age zero", WithDPoPProofAge(0), "verify.WithDPoPProofAge"},
		{"proof age negative", WithDPoPProofAge(-time.Second), "verify.WithDPoPProofAge"},
		{"replay cache zero", WithDPoPReplayCacheSize(0), "verify.WithDPoPReplayCacheSize"},
		{"short nonce secret", WithDPoPNonces(secret[:31], time.Minute), "verify.WithDPoPNonces"},
		{"nonce slot too short", WithDPoPNonces(secret, time.Millisecond), "verify.WithDPoPNonces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(StaticKeys(ecKey.Public()), Expect{Issuer: testIssuer, Audience: []string{testAudience}}, tc.opt)
			var ice *authorizer.InvalidConfigError
			if !errors.As(err, &ice) || ice.Setting != tc.setting {
				t.Fatalf("err = %v; want an InvalidConfigError for %s", err, tc.setting)
			}
		})
	}
	if err := JWKS("https://issuer.example/jwks", WithDPoPProofAge(time.Minute)).init(time.Now); err == nil {
		t.Error("a DPoP option given to a key source was accepted")
	}
}

func TestDPoPNonceSecretCopied(t *testing.T) {
	c := newClock()
	secret := []byte(strings.Repeat("s", MinDPoPNonceSecret))
	v := newDPoPVerifier(t, c, WithDPoPNonces(secret, time.Minute))
	before := v.DPoPNonce()
	secret[0] = 'x'
	c.Add(time.Minute)
	c.Add(-time.Minute)
	v.nonces.cur.Store(nil)
	if v.DPoPNonce() != before {
		t.Error("changing the caller's secret changed the nonces")
	}
}

func TestConfirmationClaim(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cnf  any
		ok   bool
	}{
		{"not an object", "abc", false},
		{"jkt a number", map[string]any{"jkt": 5}, false},
		{"jkt empty", map[string]any{"jkt": ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", tc.cnf)))
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v; want ok %v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, authorizer.ErrTokenMalformed) {
				t.Errorf("err = %v; want ErrTokenMalformed", err)
			}
		})
	}
	// Decode still gives a struct its cnf.
	tok := boundToken(dpKey.Thumbprint())
	claims, err := v.VerifyDPoP(ctx, tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now()), "GET", dpTarget)
	if err != nil {
		t.Fatal(err)
	}
	var extra struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := claims.Decode(&extra); err != nil || extra.Cnf.JKT != dpKey.Thumbprint() || claims.KeyThumbprint != dpKey.Thumbprint() {
		t.Errorf("Decode cnf.jkt = %q, KeyThumbprint %q (%v); want %q", extra.Cnf.JKT, claims.KeyThumbprint, err, dpKey.Thumbprint())
	}
}

// TestDPoPNonceSecretNotPrinted: printing a Verifier (fmt, every verb that
// walks structs) shows no byte of the nonce secret.
func TestDPoPNonceSecretNotPrinted(t *testing.T) {
	secret := []byte("0123456789abcdef-secret-nonce-key")
	v := newDPoPVerifier(t, newClock(), WithDPoPNonces(secret, time.Minute))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, v)
		if strings.Contains(out, "secret-nonce") || strings.Contains(out, "48 49 50 51 52 53 54 55") || strings.Contains(out, "0x30, 0x31, 0x32") {
			t.Fatalf("%s shows the nonce secret: %s", verb, out)
		}
	}
}
