package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// FuzzAttackDPoPSignedProof fuzzes what FuzzDPoPProof rarely reaches: the
// header members and the claims of a proof whose signature verifies (it is
// signed here, after the mutation). Nothing panics; an accepted proof's
// claims, read by encoding/json, are for this request and token; and the
// same proof a second time is a replay. Run with
// go test ./verify -run '^$' -fuzz FuzzAttackDPoPSignedProof -fuzztime 20s.
func FuzzAttackDPoPSignedProof(f *testing.F) {
	dpFixtures(f)
	c := newClock()
	now := c.Now()
	ecTok := boundToken(ecThumbprint())
	ath := dpop.AccessTokenHash(ecTok)
	j := jwkOf("", ecKey)
	delete(j, "kid")
	jwkJSON := mustJSON(j)
	good := `{"jti":"f-1","htm":"GET","htu":"` + dpTarget.String() + `","iat":` + mustJSON(now.Unix()) + `,"ath":"` + ath + `"}`
	f.Add("", good)
	f.Add(`,"kid":"x"`, good)
	f.Add(`,"jku":"https://x"`, good)
	f.Add("", `{"jti":"f-2","htm":"GET","htu":"https://u@api.example/v1/things#x","iat":1.8e9,"ath":"`+ath+`"}`)
	f.Add("", `{"jti":"f-3","htm":"GET","HTM":"POST","htu":"`+dpTarget.String()+`","iat":`+mustJSON(now.Unix())+`,"ath":"`+ath+`"}`)
	f.Add("", `{"jti":"f-4","htm":"GET","htu":"`+dpTarget.String()+`","iat":`+mustJSON(now.Unix())+`,"ath":"`+ath+`","nonce":[1,{"a":[]}]}`)
	v := newDPoPVerifier(f, c)
	f.Fuzz(func(t *testing.T, headerExtra, claims string) {
		header := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwkJSON + headerExtra + `}`
		proof := signRaw("ES256", rawSeg(header)+"."+rawSeg(claims), ecKey)
		_, err := v.VerifyDPoP(context.Background(), ecTok, proof, "GET", dpTarget)
		if err != nil {
			if errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
				return
			}
			var bad *authorizer.InvalidTokenError
			if !errors.As(err, &bad) {
				t.Fatalf("untyped refusal: %v", err)
			}
			return
		}
		var h map[string]any
		if json.Unmarshal([]byte(header), &h) != nil {
			t.Fatalf("accepted a header encoding/json refuses: %q", header)
		}
		for _, m := range []string{"jku", "x5u", "x5c", "crit"} {
			if _, ok := h[m]; ok {
				t.Fatalf("accepted a header with %s", m)
			}
		}
		var cl struct {
			JTI, HTM, HTU, ATH string
			IAT                float64
		}
		if err := json.Unmarshal([]byte(claims), &cl); err != nil {
			t.Fatalf("accepted claims encoding/json refuses: %q (%v)", claims, err)
		}
		u, err := url.Parse(cl.HTU)
		if cl.HTM != "GET" || cl.ATH != ath || cl.JTI == "" || err != nil || dpop.TargetURI(u) != dpop.TargetURI(dpTarget) {
			t.Fatalf("accepted claims that are not for this request: %q", claims)
		}
		if _, err := v.VerifyDPoP(context.Background(), ecTok, proof, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPReplay) {
			t.Fatalf("the same proof twice: err = %v; want a replay", err)
		}
	})
}
