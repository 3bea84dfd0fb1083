package verify_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/verify"
)

// A service accepts DPoP-bound tokens (RFC 9449) with no option: a token
// whose cnf.jkt names the caller's key, with a fresh proof signed by that
// key for this request. A replayed proof and a Bearer presentation of the
// bound token are refused. (A real client sends the proof through
// base.Transport; the token comes from an issuer that binds it.)
func ExampleMiddleware_dPoP() {
	v, err := verify.New(verify.StaticKeys(examplePriv.Public()), verify.Expect{
		Issuer:   "https://id.example",
		Audience: []string{"https://api.example"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	api := verify.Middleware(v, verify.WithExternalOrigin("https://api.example"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", verify.ClaimsFrom(r.Context()).Subject)
	}))

	key, _ := dpop.GenerateKey() // the caller's proof key
	claims := exampleClaims(time.Hour)
	claims["cnf"] = map[string]string{"jkt": key.Thumbprint()}
	tok := exampleToken(claims)
	target, _ := url.Parse("https://api.example/invoices")
	proof, _ := key.Proof("GET", target, tok, "", time.Now())

	send := func(scheme string) {
		r := httptest.NewRequest("GET", "http://10.0.0.7:8080/invoices", nil) // behind a proxy
		r.Header.Set("Authorization", scheme+" "+tok)
		r.Header.Set("DPoP", proof)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Header().Get("WWW-Authenticate"), " ", w.Body)
	}
	send("DPoP")   // accepted
	send("DPoP")   // the same proof again: a replay
	send("Bearer") // the bound token without its proof
	// Output:
	// 200  hello user-42
	// 401 DPoP error="invalid_dpop_proof", algs="ES256 EdDSA" Unauthorized
	// 401 Bearer error="invalid_token" Unauthorized
}
