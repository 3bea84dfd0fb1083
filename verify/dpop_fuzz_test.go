package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
)

// FuzzDPoPProof: the DPoP proof parser and checks take any header value
// without panicking, and a proof they accept was signed by the key the
// token is bound to, for this request, with an accepted algorithm. Run with
// go test ./verify -run '^$' -fuzz FuzzDPoPProof -fuzztime 20s.
func FuzzDPoPProof(f *testing.F) {
	dpFixtures(f)
	c := newClock()
	now := c.Now()
	tok := boundToken(dpKey.Thumbprint())
	good, _ := dpKey.Proof("GET", dpTarget, tok, "", now)
	f.Add(good)
	ed, _ := dpEdKey.Proof("GET", dpTarget, tok, "", now)
	f.Add(ed)
	h, cl := ecProofParts(tok, now)
	f.Add(handProof("ES256", ecKey, h, cl))
	h["jwk"].(map[string]any)["d"] = "AAAA"
	f.Add(handProof("ES256", ecKey, h, cl))
	f.Add(rawSeg(`{"typ":"dpop+jwt","alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"AQ"}}`) + "." + rawSeg(`{"jti":"a","htm":"GET","htu":"https://api.example/v1/things","iat":1800000000}`) + ".AA")
	f.Add(rawSeg(`{"typ":"dpop+jwt","alg":"none"}`) + ".e30.")
	f.Add(strings.Repeat("a.", 50))
	v := newDPoPVerifier(f, c, WithDPoPAlgorithms("ES256", "EdDSA", "RS256", "PS256"))
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.parseProof(raw)
		if err == nil {
			if !accepted(v.cfg.dpopAlgs, p.alg) || p.jti == "" || len(p.jti) > maxJTISize || p.jkt == "" || p.htm == "" || p.htu == "" {
				t.Fatalf("parsed a proof that fails the rules: %+v", p)
			}
		}
		claims, err := v.VerifyDPoP(context.Background(), tok, raw, "GET", dpTarget)
		if err == nil {
			if claims.KeyThumbprint != dpKey.Thumbprint() {
				t.Fatal("accepted a proof for another key")
			}
			if raw != good && !strings.HasPrefix(raw, strings.SplitN(good, ".", 2)[0]+".") {
				// Only dpKey can sign for its thumbprint.
				t.Fatalf("accepted a proof not signed by the bound key")
			}
			return
		}
		if strings.Contains(err.Error(), dpop.AccessTokenHash(tok)) {
			t.Fatal("error holds the ath")
		}
	})
}
