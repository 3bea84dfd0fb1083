package base_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// A DPoP-bound token (here made by hand; oauth2auth.WithDPoP yields them)
// goes with a new proof per request. The API below asks for a nonce
// first, as RFC 9449 §9 allows; the Transport answers with one replay.
func ExampleTransport_dpop() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		var proof struct{ HTM, HTU, Nonce string }
		if parts := strings.Split(r.Header.Get("DPoP"), "."); len(parts) == 3 {
			claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
			_ = json.Unmarshal(claims, &proof)
		}
		fmt.Printf("%s token, proof for %s %s, nonce %q\n", scheme, proof.HTM,
			strings.TrimPrefix(proof.HTU, "http://"+r.Host), proof.Nonce)
		if proof.Nonce != "n-1" {
			w.Header().Set("DPoP-Nonce", "n-1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	key, err := dpop.GenerateKey()
	if err != nil {
		panic(err)
	}
	tok := dpop.Bind(&oauth2.Token{AccessToken: "bound-token", TokenType: dpop.TokenType,
		Expiry: time.Now().Add(time.Hour)}, key)
	client := base.NewClient(base.FromTokenSource(oauth2.StaticTokenSource(tok)))
	defer client.Transport.(*base.Transport).Close()
	defer client.CloseIdleConnections()

	for range 2 {
		resp, err := client.Get(api.URL + "/things?page=2")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// DPoP token, proof for GET /things, nonce ""
	// DPoP token, proof for GET /things, nonce "n-1"
	// 200
	// DPoP token, proof for GET /things, nonce "n-1"
	// 200
}
