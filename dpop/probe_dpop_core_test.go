package dpop_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// Probes of package dpop against RFC 9449 / RFC 7638 and its doc comments
// (break-dpop-docs review).

// RFC 9449 §6.1's example: the jkt of the example proof key (RFC 9449
// uses this key throughout its examples).
func TestProbeDPoPThumbprintRFC9449Example(t *testing.T) {
	dec := base64.RawURLEncoding.DecodeString
	x, _ := dec("l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs")
	y, _ := dec("9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA")
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	got, err := dpop.Thumbprint(pub)
	if err != nil || got != "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" {
		t.Fatalf("Thumbprint = %q, %v", got, err)
	}
	// RFC 8037 appendix A.3: the Ed25519 thumbprint.
	ex, _ := dec("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, err := dpop.Thumbprint(ed25519.PublicKey(ex)); err != nil || got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("Ed25519 Thumbprint = %q, %v", got, err)
	}
}

func decodeSeg(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// RFC 9449 §4.2: header typ/alg/jwk (public, no d); claims jti, htm, htu,
// iat (integer), ath only with a token, nonce only when given; ES256 as
// 64-byte R||S that verifies; jti unique over many proofs and >= 96 bits.
func TestProbeDPoPProofSyntax(t *testing.T) {
	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://API.example:443/a/b?q=1#f")
	now := time.Unix(1_800_000_000, 999_000_000)
	seen := map[string]bool{}
	for i := range 500 {
		tok, nonce := "", ""
		if i%2 == 0 {
			tok, nonce = "tok-"+fmt.Sprint(i), "n-"+fmt.Sprint(i)
		}
		p, err := key.Proof("PATCH", u, tok, nonce, now)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(p, ".")
		if len(parts) != 3 {
			t.Fatalf("%d parts", len(parts))
		}
		h, c := decodeSeg(t, parts[0]), decodeSeg(t, parts[1])
		jwk, _ := h["jwk"].(map[string]any)
		if h["typ"] != "dpop+jwt" || h["alg"] != "ES256" || jwk == nil || jwk["d"] != nil || len(h) != 3 {
			t.Fatalf("header %v", h)
		}
		jti, _ := c["jti"].(string)
		raw, _ := base64.RawURLEncoding.DecodeString(jti)
		if len(raw)*8 < 96 || seen[jti] {
			t.Fatalf("jti %q short or repeated", jti)
		}
		seen[jti] = true
		if c["htm"] != "PATCH" || c["htu"] != "https://api.example/a/b" || c["iat"] != float64(1_800_000_000) {
			t.Fatalf("claims %v", c)
		}
		if _, has := c["ath"]; has != (tok != "") || (tok != "" && c["ath"] != dpop.AccessTokenHash(tok)) {
			t.Fatalf("ath %v for token %q", c["ath"], tok)
		}
		if _, has := c["nonce"]; has != (nonce != "") || (nonce != "" && c["nonce"] != nonce) {
			t.Fatalf("nonce %v", c["nonce"])
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		pub := key.Public().(*ecdsa.PublicKey)
		if len(sig) != 64 || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("signature does not verify as R||S")
		}
	}
	// AccessTokenHash is base64url(SHA-256(ASCII)) without padding.
	sum := sha256.Sum256([]byte("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))
	if got := dpop.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != base64.RawURLEncoding.EncodeToString(sum[:]) || got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Fatalf("ath = %q (RFC 9449 §7.1 example: fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo)", got)
	}
}

// Proof's documented errors: a method that is no token, a URL without
// host, a nonce outside NQCHAR; the messages echo none of the inputs.
func TestProbeDPoPProofErrors(t *testing.T) {
	key, _ := dpop.GenerateKey()
	good, _ := url.Parse("https://api.example/x")
	for _, tc := range []struct {
		name, method, nonce string
		u                   *url.URL
	}{
		{"method with space", "GE T", "", good},
		{"empty method", "", "", good},
		{"nil URL", "GET", "", nil},
		{"relative URL", "GET", "", &url.URL{Path: "/x"}},
		{"nonce with quote", "GET", `n"once-SECRETISH`, good},
		{"nonce with space", "GET", "n once", good},
		{"nonce too long", "GET", strings.Repeat("n", 513), good},
	} {
		_, err := key.Proof(tc.method, tc.u, "the-access-token-SECRET", tc.nonce, time.Now())
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || (tc.nonce != "" && strings.Contains(err.Error(), tc.nonce)) {
			t.Errorf("%s: error %q echoes input", tc.name, err)
		}
	}
}

// TargetURI per its doc: lower-case scheme and host, default port
// dropped, no query or fragment, empty path "/", IPv6 kept bracketed.
func TestProbeDPoPTargetURITable(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://API.Example:443/A?b#c": "https://api.example/A",
		"http://h:80":                   "http://h/",
		"http://h:443/":                 "http://h:443/",
		"https://[::1]:443/p":           "https://[::1]/p",
		"https://[2001:DB8::1]:8443/p":  "https://[2001:db8::1]:8443/p",
		"https://h/a%20b/":              "https://h/a%20b/",
		"https://h/a b":                 "https://h/a%20b",
		"https://u:pw@h/p":              "https://h/p",
		"/relative":                     "",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := dpop.TargetURI(u); got != want {
			t.Errorf("TargetURI(%q) = %q; want %q", in, got, want)
		}
	}
}

// An internationalised host must be given in its punycode form (TargetURI's
// doc): a URL with a non-ASCII host is refused with a clear error, never
// signed with a host the server does not see; the punycode form works.
func TestProbeDPoPIDNHost(t *testing.T) {
	key, _ := dpop.GenerateKey()
	u, _ := url.Parse("https://bücher.example/x")
	if _, err := key.Proof("GET", u, "t", "", time.Now()); err == nil || !strings.Contains(err.Error(), "target URL") {
		t.Fatalf("a non-ASCII host: err = %v; want the documented refusal", err)
	}
	p, _ := url.Parse("https://xn--bcher-kva.example/x")
	if _, err := key.Proof("GET", p, "t", "", time.Now()); err != nil {
		t.Fatalf("the punycode form: %v", err)
	}
}

// Nonces: bounded at 256 origins, oldest forgotten; invalid nonces and
// empty origins ignored; Observe takes exactly one header value.
func TestProbeDPoPNoncesBound(t *testing.T) {
	var n dpop.Nonces
	for i := range 257 {
		n.Put(fmt.Sprintf("https://h%d", i), "n")
	}
	if n.Get("https://h0") != "" || n.Get("https://h1") != "n" || n.Get("https://h256") != "n" {
		t.Fatal("bound of 256 not as documented")
	}
	n.Put("", "n")
	n.Put("https://x", `bad"`)
	if n.Get("") != "" || n.Get("https://x") != "" {
		t.Fatal("invalid input recorded")
	}
	h := http.Header{}
	h.Add(dpop.NonceHeader, "a")
	h.Add(dpop.NonceHeader, "b")
	n.Observe("https://y", h)
	if n.Get("https://y") != "" {
		t.Fatal("two DPoP-Nonce values: one was taken")
	}
}

// ResourceNonceChallenge: the error parameter must belong to the DPoP
// challenge. A Bearer challenge with error="use_dpop_nonce" followed by a
// DPoP challenge in the same header value is not a DPoP nonce challenge.
func TestProbeDPoPResourceNonceChallenge(t *testing.T) {
	resp := func(www ...string) *http.Response {
		h := http.Header{}
		for _, w := range www {
			h.Add("WWW-Authenticate", w)
		}
		h.Set(dpop.NonceHeader, "abc")
		return &http.Response{StatusCode: 401, Header: h}
	}
	for _, tc := range []struct {
		name string
		www  []string
		want bool
	}{
		{"rfc example", []string{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`}, true},
		{"lower-case scheme, token form", []string{`dpop error=use_dpop_nonce`}, true},
		{"after a Bearer challenge value", []string{`Bearer realm="x"`, `DPoP algs="ES256", error="use_dpop_nonce"`}, true},
		{"invalid_dpop_proof", []string{`DPoP error="invalid_dpop_proof"`}, false},
		{"Bearer only", []string{`Bearer error="use_dpop_nonce"`}, false},
	} {
		if _, got := dpop.ResourceNonceChallenge(resp(tc.www...)); got != tc.want {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
		}
	}
	if _, ok := dpop.ResourceNonceChallenge(resp(`Bearer realm="x", error="use_dpop_nonce", DPoP algs="ES256"`)); ok {
		t.Fatal("regression of a fixed finding (info): dpop/nonce.go:78 challengeAsksNonce attributes an error=\"use_dpop_nonce\" of a Bearer challenge to a DPoP " +
			"challenge in the same header value; parse challenges per RFC 9110 §11.6.1 (scheme then its params) instead of splitting on commas.")
	}
}

// The doc: "Printing a Key (fmt, slog, encoding/json) shows its algorithm
// and thumbprint only" — also through a token's Extra and a struct.
func TestProbeDPoPKeyPrintsNoSecret(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed, _ := dpop.NewKey(edPriv)
	ec, _ := dpop.GenerateKey()
	for _, k := range []*dpop.Key{ed, ec} {
		der, _ := k.MarshalBinary()
		priv, _ := x509.ParsePKCS8PrivateKey(der)
		var secrets []string
		switch p := priv.(type) {
		case ed25519.PrivateKey:
			secrets = []string{fmt.Sprint([]byte(p.Seed())[:8]), base64.RawURLEncoding.EncodeToString(p.Seed()), fmt.Sprintf("%x", p.Seed()[:8])}
			secrets = append(secrets, strings.Trim(fmt.Sprint([]byte(p.Seed())[:6]), "[]"))
		case *ecdsa.PrivateKey:
			raw, _ := p.Bytes()
			d := new(big.Int).SetBytes(raw).String()
			secrets = []string{d[:12], base64.RawURLEncoding.EncodeToString(raw)}
		}
		tok := dpop.Bind(&oauth2.Token{AccessToken: "a", TokenType: "DPoP"}, k)
		type holder struct{ K *dpop.Key }
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("k", "key", k, "tok", tok, "h", holder{k})
		slog.New(slog.NewTextHandler(&buf, nil)).Info("k", "key", k, "tok", tok, "h", holder{k})
		js, _ := json.Marshal(map[string]any{"k": k, "tok": tok, "h": holder{k}})
		outs := []string{fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%v %+v %#v", tok, tok, tok),
			fmt.Sprintf("%v %+v %#v", holder{k}, holder{k}, holder{k}), buf.String(), string(js)}
		for _, o := range outs {
			for _, s := range secrets {
				if strings.Contains(o, s) {
					t.Fatalf("%s key: output holds private key material: %.200s", k.Algorithm(), o)
				}
			}
		}
	}
	// A Key value (a struct field of type dpop.Key, or *k): String is on
	// the pointer, so fmt and slog print the fields.
	type byValue struct{ K dpop.Key }
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("k", "key", *ed)
	seed := strings.Trim(fmt.Sprint([]byte(edPriv.Seed())[:6]), "[]")
	if o := fmt.Sprintf("%v", byValue{*ed}) + buf.String(); strings.Contains(o, seed) {
		t.Fatal("regression of a fixed finding (low): dpop/key.go:133-150 String/GoString/LogValue have pointer receivers and Key holds an ed25519.PrivateKey " +
			"(a []byte) in an interface field: printing a dpop.Key value (fmt of a struct with a Key field, slog.Any(\"k\", *key)) prints " +
			"the Ed25519 private key bytes. Fix: value receivers, or keep the signer behind a pointer (e.g. a *signerBox).")
	}
}

// ParseKey(MarshalBinary) round trips; a hardware signer cannot be
// exported; ParseKey refuses RSA and P-384 as NewKey does.
func TestProbeDPoPKeyRoundTrip(t *testing.T) {
	k, _ := dpop.GenerateKey()
	der, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := dpop.ParseKey(der)
	if err != nil || !k2.Equal(k) {
		t.Fatalf("round trip: %v", err)
	}
	type hw struct{ *ecdsa.PrivateKey }
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hk, err := dpop.NewKey(hw{priv})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hk.MarshalBinary(); err == nil {
		t.Fatal("hardware signer exported")
	}
	if _, err := hk.Proof("GET", &url.URL{Scheme: "https", Host: "h"}, "", "", time.Now()); err != nil {
		t.Fatalf("hardware ES256 proof: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(p384)
	if _, err := dpop.ParseKey(der384); err == nil {
		t.Fatal("P-384 key parsed")
	}
	if _, err := dpop.ParseKey([]byte("garbage")); err == nil || strings.Contains(err.Error(), "garbage") {
		t.Fatalf("garbage: %v", err)
	}
}
