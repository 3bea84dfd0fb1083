package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/verify"
)

// The examples sign their own tokens with a fixed Ed25519 key; a real
// service gets them from callers and its keys from verify.Discover,
// verify.JWKS or verify.PEMURL.
var examplePriv = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func exampleToken(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": "EdDSA", "typ": "JWT"}) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(examplePriv, []byte(input)))
}

func exampleClaims(exp time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://id.example", "sub": "user-42", "aud": "https://api.example",
		"iat": now.Unix(), "exp": now.Add(exp).Unix(), "scope": "invoices:read",
		"permissions": []string{"invoice:read", "customer:read"},
	}
}

func ExampleNew() {
	keys := verify.StaticKeys(examplePriv.Public())
	v, err := verify.New(keys, verify.Expect{
		Issuer:   "https://id.example",
		Audience: []string{"https://api.example"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := v.Verify(context.Background(), exampleToken(exampleClaims(time.Hour)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Subject, claims.Scopes)
	// Output: user-42 [invoices:read]
}

func ExampleClaims_Decode() {
	v, _ := verify.New(verify.StaticKeys(examplePriv.Public()), verify.Expect{
		Issuer: "https://id.example", Audience: []string{"https://api.example"},
	})
	claims, err := v.Verify(context.Background(), exampleToken(exampleClaims(time.Hour)))
	if err != nil {
		fmt.Println(err)
		return
	}
	var extra struct {
		Permissions []string `json:"permissions"`
	}
	if err := claims.Decode(&extra); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(extra.Permissions)
	// Output: [invoice:read customer:read]
}

func ExampleVerifier_Verify_errors() {
	v, _ := verify.New(verify.StaticKeys(examplePriv.Public()), verify.Expect{
		Issuer: "https://id.example", Audience: []string{"https://api.example"},
	})
	_, err := v.Verify(context.Background(), exampleToken(exampleClaims(-time.Hour)))
	var bad *authorizer.InvalidTokenError
	if errors.As(err, &bad) {
		fmt.Println("refused:", bad.Reason, errors.Is(err, authorizer.ErrTokenExpired))
	}
	// Output: refused: expired true
}

func ExampleMiddleware() {
	v, _ := verify.New(verify.StaticKeys(examplePriv.Public()), verify.Expect{
		Issuer: "https://id.example", Audience: []string{"https://api.example"},
	})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "invoices of %s", verify.ClaimsFrom(r.Context()).Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("/invoices", verify.Middleware(v, verify.RequireScope("invoices:read"))(api))
	mux.Handle("/admin", verify.Middleware(v, verify.RequireScope("admin"))(api))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	call := func(path, tok string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintln(path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))))
	}
	tok := exampleToken(exampleClaims(time.Hour))
	call("/invoices", tok)
	call("/invoices", "")
	call("/invoices", exampleToken(exampleClaims(-time.Hour)))
	call("/admin", tok)
	// Output:
	// /invoices 200
	// /invoices 401 Bearer
	// /invoices 401 Bearer error="invalid_token"
	// /admin 403 Bearer error="insufficient_scope", scope="admin"
}

func ExampleCognito() {
	// Access tokens of a user pool's app client, checked like AWS's
	// aws-jwt-verify: client_id and token_use, no aud. With nil keys the
	// Verifier fetches the pool's JWKS and Close closes it.
	v, err := verify.New(nil, verify.Expect{}, verify.Cognito("eu-west-1", "eu-west-1_AbC123", "access", "my-app-client-id"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	fmt.Println(verify.CognitoJWKSURL("eu-west-1", "eu-west-1_AbC123"))
	// Output: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json
}
