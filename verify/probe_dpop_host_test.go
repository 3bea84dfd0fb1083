package verify

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// A Go client that sets req.Host (a virtual host reached by address) sends
// "Host: api.example"; the request's target URI (RFC 9110 §7.1) is then
// http://api.example/..., which verify.Middleware compares (r.Host). The
// Transport signs htu from req.URL instead. (break-dpop-docs review)
func TestProbeDPoPRequestHostOverride(t *testing.T) {
	dpFixtures(t)
	v, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{Issuer: testIssuer, Audience: []string{testAudience}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	raw := token(rsaKey(0), "RS256", "", with(goodClaims(), "iat", now-10, "exp", now+3600, "cnf", map[string]any{"jkt": dpKey.Thumbprint()}))
	srv := httptest.NewServer(Middleware(v, InsecureTrustHostHeader())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })))
	defer srv.Close()
	tok := dpop.Bind(&oauth2.Token{AccessToken: raw, TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, dpKey)
	client := base.NewClient(&probeBoundAuthorizer{tok: tok})
	req, _ := http.NewRequest("GET", srv.URL+"/v1/things", nil)
	req.Host = "api.example"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatal("regression of a fixed finding (low): base/dpop.go:121 withProof signs htu from req.URL, ignoring req.Host: a request sent with " +
			"req.Host set (virtual host by address) is refused by an RFC 9449 server that builds the target URI from Host " +
			"(verify.Middleware does: status " + resp.Status + "). Fix: when req.Host is set, sign htu for " +
			"scheme://req.Host/path (and document it), or document that req.Host must equal req.URL.Host.")
	}
}

// ECDSA malleability: (r, n-s) is another valid signature of the same
// proof; the jti replay cache, not the proof bytes, must catch it.
func TestProbeDPoPMalleatedSignatureIsReplay(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	p := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	if _, err := v.VerifyDPoP(context.Background(), tok, p, "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(p, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(p[i+1:])
	n := elliptic.P256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:]))
	s.FillBytes(sig[32:])
	mal := p[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
	if mal == p {
		t.Fatal("not malleated")
	}
	_, err := v.VerifyDPoP(context.Background(), tok, mal, "GET", dpTarget)
	if !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
		t.Fatalf("malleated proof: %v; want ErrTokenDPoPReplay", err)
	}
	// A DER (ASN.1) ES256 signature is not a JWS signature: refused.
	h, cl := ecProofParts(boundToken(ecThumbprint()), c.Now())
	good := handProof("ES256", ecKey, h, cl)
	j := strings.LastIndexByte(good, '.')
	raw, _ := base64.RawURLEncoding.DecodeString(good[j+1:])
	der := append([]byte{0x30, 0x44, 0x02, 0x20}, raw[:32]...)
	der = append(append(der, 0x02, 0x20), raw[32:]...)
	if _, err := v.VerifyDPoP(context.Background(), boundToken(ecThumbprint()), good[:j+1]+base64.RawURLEncoding.EncodeToString(der), "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Fatalf("DER signature: %v", err)
	}
}
