package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestThumbprintRFC7638 is the RFC 7638 §3.1 example.
func TestThumbprintRFC7638(t *testing.T) {
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	got, err := Thumbprint(pub)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("Thumbprint = %q, %v", got, err)
	}
}

func TestProofES256AndEdDSA(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ed, err := NewKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("HTTPS://API.Example.test:443/a%20b/c?q=secret#frag")
	now := time.Unix(1700000000, 0)
	for _, k := range []*Key{ec, ed} {
		p1, err := k.Proof("GET", target, "tok", "n-1", now)
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := k.Proof("GET", target, "tok", "n-1", now)
		parts := strings.Split(p1, ".")
		if len(parts) != 3 {
			t.Fatalf("proof %q", p1)
		}
		head, _ := base64.RawURLEncoding.DecodeString(parts[0])
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		var h struct {
			Typ, Alg string
			JWK      map[string]string
		}
		var c map[string]any
		if json.Unmarshal(head, &h) != nil || json.Unmarshal(body, &c) != nil {
			t.Fatalf("undecodable proof %s %s", head, body)
		}
		if h.Typ != "dpop+jwt" || h.Alg != k.Algorithm() || h.JWK["d"] != "" {
			t.Errorf("header %s", head)
		}
		want := map[string]any{"htm": "GET", "htu": "https://api.example.test/a%20b/c", "iat": float64(now.Unix()),
			"ath": AccessTokenHash("tok"), "nonce": "n-1"}
		for name, v := range want {
			if c[name] != v {
				t.Errorf("%s: claim %s = %v, want %v", k.Algorithm(), name, c[name], v)
			}
		}
		if jti, _ := c["jti"].(string); len(jti) < 16 || strings.Contains(p2, jti) {
			t.Errorf("jti %q not unique", jti)
		}
		input := []byte(parts[0] + "." + parts[1])
		ok := false
		switch pub := k.Public().(type) {
		case *ecdsa.PublicKey:
			d := sha256.Sum256(input)
			ok = len(sig) == 64 && ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
		case ed25519.PublicKey:
			ok = ed25519.Verify(pub, input, sig)
		}
		if !ok {
			t.Errorf("%s: signature does not verify", k.Algorithm())
		}
	}
}

func TestKeyNeverPrintsPrivateKey(t *testing.T) {
	k, _ := GenerateKey()
	der, _ := k.MarshalBinary()
	back, err := ParseKey(der)
	if err != nil || !back.Equal(k) {
		t.Fatalf("ParseKey: %v", err)
	}
	raw, _ := k.signer.(*ecdsa.PrivateKey).Bytes()
	d := base64.RawURLEncoding.EncodeToString(raw)
	js, _ := json.Marshal(k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", k), string(js)} {
		if strings.Contains(s, d) || strings.Contains(s, `"d"`) {
			t.Errorf("private key printed: %s", s)
		}
	}
}

func TestProofRefusesBadInput(t *testing.T) {
	k, _ := GenerateKey()
	u, _ := url.Parse("https://a.test/x")
	for name, call := range map[string]func() error{
		"method":   func() error { _, err := k.Proof("GE T", u, "", "", time.Now()); return err },
		"nonce":    func() error { _, err := k.Proof("GET", u, "", `a"b`, time.Now()); return err },
		"relative": func() error { _, err := k.Proof("GET", &url.URL{Path: "/x"}, "", "", time.Now()); return err },
	} {
		if call() == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewKey(nil); err == nil {
		t.Error("nil signer accepted")
	}
}

func TestNonceChallenge(t *testing.T) {
	var n Nonces
	u, _ := url.Parse("https://RS.test:443/p?q")
	n.Put(Origin(u), "abc")
	if got := n.Get("https://rs.test"); got != "abc" {
		t.Fatalf("Get = %q (origin %q)", got, Origin(u))
	}
	n.Put("https://rs.test", "bad nonce")
	if n.Get("https://rs.test") != "abc" {
		t.Error("invalid nonce stored")
	}
}

func TestChallengeAsksNonceByScheme(t *testing.T) {
	for c, want := range map[string]bool{
		`DPoP error="use_dpop_nonce"`:                                     true,
		`DPoP error = "use_dpop_nonce", error_description="x"`:            true,
		`dpop algs="ES256", error=use_dpop_nonce`:                         true,
		`Bearer realm="x", error="use_dpop_nonce", DPoP algs="ES256"`:     false,
		`Bearer error="invalid_token", DPoP error="use_dpop_nonce"`:       true,
		`DPoP error_description="a, error=use_dpop_nonce", error="other"`: false,
		`Negotiate abc==, DPoP`:                                           false,
	} {
		if got := challengeAsksNonce(c); got != want {
			t.Errorf("challengeAsksNonce(%s) = %v; want %v", c, got, want)
		}
	}
}

func TestTargetURINormalises(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.test/x%2fy":       "https://a.test/x%2Fy",
		"https://a.test/%7Euser/%74": "https://a.test/~user/t",
		"https://a.test:/p":          "https://a.test/p",
		"https://a.test/a/./b/../c":  "https://a.test/a/c",
		"https://a.test/a/..":        "https://a.test/",
		"https://a.test/../../x":     "https://a.test/x",
		"https://a.test":             "https://a.test/",
		"http://A.test:80/P?q#f":     "http://a.test/P",
		"https://[::1]:443/p":        "https://[::1]/p",
		"https://a.test/%20/x.y/.z":  "https://a.test/%20/x.y/.z",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := TargetURI(u); got != want {
			t.Errorf("TargetURI(%s) = %s; want %s", in, got, want)
		}
	}
}
