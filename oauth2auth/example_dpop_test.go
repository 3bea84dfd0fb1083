package oauth2auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/verify"
)

// dpopIdP is a token endpoint that issues DPoP-bound tokens (a JWT with
// cnf.jkt, signed by key) to requests carrying a proof, and an API behind
// verify.Middleware that accepts them.
func dpopIdP(sign func(jkt string) string, keys verify.KeySource) *httptest.Server {
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		jkt, ok := proofThumbprint(r.Header.Get(dpop.Header))
		if !ok {
			http.Error(w, `{"error":"invalid_dpop_proof"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"DPoP","expires_in":3600}`, sign(jkt))
	})
	v, _ := verify.New(keys, verify.Expect{Issuer: "https://idp.example", Audience: []string{"reports"}})
	origin := "http://" + srv.Listener.Addr().String()
	mux.Handle("GET /api/reports", verify.Middleware(v, verify.WithExternalOrigin(origin))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "3 reports for a token bound to %s", verify.ClaimsFrom(r.Context()).KeyThumbprint[:6])
		})))
	srv.Start()
	return srv
}

// A token bound to a key: WithDPoP asks for it with a proof on every token
// request, and the Transport sends it with a new proof on every request; a
// copy of the token is useless without the key, which never leaves the
// process.
func ExampleWithDPoP() {
	key, _ := dpop.GenerateKey() // or WithDPoP(nil): a key generated for the authorizer
	sign, keys := exampleSigner()
	idp := dpopIdP(sign, keys)
	defer idp.Close()

	authz, err := oauth2auth.NewServiceAccountAuthorizer(
		data.ClientInfo{ClientID: "reports-job", ClientSecret: "example-secret"},
		oauth2auth.Environment{Name: "dev", TokenURL: idp.URL + "/oauth2/token"},
		oauth2auth.WithDPoP(key))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := base.NewClient(authz)
	defer client.Transport.(*base.Transport).Close()

	resp, err := client.Get(idp.URL + "/api/reports")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body) == "3 reports for a token bound to "+key.Thumbprint()[:6])
	// Output:
	// 200 true
}

// proofThumbprint reads the key of a proof (ES256 here) for the example's
// token endpoint. A real authorization server checks the whole proof
// (signature, htm, htu, iat, jti) before it binds a token to that key.
func proofThumbprint(proof string) (string, bool) {
	head, _, _ := strings.Cut(proof, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Typ string                `json:"typ"`
		JWK struct{ X, Y string } `json:"jwk"`
	}
	if err != nil || json.Unmarshal(raw, &h) != nil || h.Typ != dpop.ProofType {
		return "", false
	}
	x, errX := base64.RawURLEncoding.DecodeString(h.JWK.X)
	y, errY := base64.RawURLEncoding.DecodeString(h.JWK.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if errX != nil || errY != nil || err != nil {
		return "", false
	}
	jkt, err := dpop.Thumbprint(pub)
	return jkt, err == nil
}

// exampleSigner signs the example's access tokens: RS256 JWTs for audience
// "reports" bound to a key thumbprint.
func exampleSigner() (func(jkt string) string, verify.KeySource) {
	priv, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := base64.RawURLEncoding.EncodeToString
	sign := func(jkt string) string {
		claims, _ := json.Marshal(map[string]any{"iss": "https://idp.example", "aud": "reports",
			"exp": time.Now().Add(time.Hour).Unix(), "cnf": map[string]string{"jkt": jkt}})
		input := b64([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + "." + b64(claims)
		sum := sha256.Sum256([]byte(input))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
		return input + "." + b64(sig)
	}
	return sign, verify.StaticKeys(&priv.PublicKey)
}
