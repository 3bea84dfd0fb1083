// Command verify shows the receiving side with nothing to set up: it
// starts an OAuth 2.0 authorization server (client credentials, RS256 JWT
// access tokens, discovery and JWKS) and an orders API protected by
// verify.Middleware, both in this process on 127.0.0.1, then calls the API
// through base.NewClient with a service-account token. It shows the keys
// fetched once through discovery, repeated tokens answered from the
// verified-token cache, a missing scope answered 403, and missing, forged
// and expired tokens answered 401. Tokens are shown only as fingerprints.
//
//	go run ./examples/verify
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/demoidp"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/verify"
)

// apiAudience is the orders API's identifier, the aud of its tokens.
const apiAudience = "urn:orders-api"

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	idp, err := demoidp.New(apiAudience, 10*time.Minute)
	if err != nil {
		return err
	}
	defer idp.Close()

	// The API: keys through discovery, strict checks, scopes per route.
	keys := verify.Discover(idp.URL)
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: idp.URL, Audience: []string{apiAudience}})
	if err != nil {
		return err
	}
	api := httptest.NewServer(ordersAPI(v))
	defer api.Close()

	// The caller: a service account whose token the SDK fetches and attaches.
	info := data.ClientInfo{ClientID: "orders-reporter", ClientSecret: "demo-secret"}
	env := oauth2auth.Environment{Name: "verify-demo", TokenURL: idp.URL + "/token", Scopes: []string{"orders:read"}}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env)
	if err != nil {
		return err
	}
	client := base.NewClient(authz)
	defer client.Transport.(*base.Transport).Close()
	fmt.Fprintf(out, "client: %v\n\n", info) // the secret prints as REDACTED

	if err := steps(ctx, out, idp, client, api.URL); err != nil {
		return err
	}
	fmt.Fprintf(out, "token requests: %d, key fetches: %d\n", idp.Tokens.Load(), idp.KeyReads.Load())
	return nil
}

// ordersAPI is the protected API: reading orders needs orders:read,
// creating one orders:write.
func ordersAPI(v *verify.Verifier) http.Handler {
	mux := http.NewServeMux()
	read := verify.Middleware(v, verify.RequireScope("orders:read"))
	write := verify.Middleware(v, verify.RequireScope("orders:write"))
	mux.Handle("GET /orders", read(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := verify.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "orders for %s (scopes %s)\n", c.ClientID, strings.Join(c.Scopes, " "))
	})))
	mux.Handle("POST /orders", write(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))
	return timed(mux)
}

// timed reports how long the API took, verification included, in a
// header the demo prints.
func timed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Handled-In", time.Since(start).Round(time.Microsecond).String())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

func steps(ctx context.Context, out io.Writer, idp *demoidp.Provider, client *http.Client, api string) error {
	forged, expired, err := badTokens(idp)
	if err != nil {
		return err
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	list := []struct {
		name string
		do   func() error
	}{
		{"1. first call: token fetched by the SDK, keys fetched by the API through discovery", func() error {
			return call(ctx, out, client, http.MethodGet, api, "", http.StatusOK)
		}},
		{"2. five more calls: same token, verified from the cache", func() error {
			for range 5 {
				if err := call(ctx, out, client, http.MethodGet, api, "", http.StatusOK); err != nil {
					return err
				}
			}
			return nil
		}},
		{"3. a route that needs orders:write: 403", func() error {
			return call(ctx, out, client, http.MethodPost, api, "", http.StatusForbidden)
		}},
		{"4. without the SDK: no token, a forged token, an expired token: 401", func() error {
			for _, tok := range []string{"", forged, expired} {
				if err := call(ctx, out, plain, http.MethodGet, api, tok, http.StatusUnauthorized); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, s := range list {
		fmt.Fprintf(out, "%s\n", s.name)
		if err := s.do(); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	return nil
}

// badTokens returns a token with the right claims signed by another key
// (same kid), and one signed by the provider that expired an hour ago.
func badTokens(idp *demoidp.Provider) (forged, expired string, err error) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	claims := func(exp time.Time) map[string]any {
		return map[string]any{"iss": idp.URL, "sub": "orders-reporter", "client_id": "orders-reporter",
			"aud": apiAudience, "scope": "orders:read orders:write", "iat": exp.Add(-10 * time.Minute).Unix(), "exp": exp.Unix()}
	}
	if forged, err = demoidp.SignJWT(other, demoidp.KeyID, claims(now.Add(time.Hour))); err != nil {
		return "", "", err
	}
	expired, err = idp.Sign(claims(now.Add(-time.Hour)))
	return forged, expired, err
}

// call sends method to api/orders, with tok as a bearer token when not
// empty, and checks the status.
func call(ctx context.Context, out io.Writer, c *http.Client, method, api, tok string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, api+"/orders", nil)
	if err != nil {
		return err
	}
	shown := "the SDK's token"
	if c.Transport == nil {
		shown = "no token"
		if tok != "" {
			req.Header.Set(data.AuthorizationHeader, "Bearer "+tok)
			shown = "token " + data.Fingerprint(tok)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	fmt.Fprintf(out, "   %s /orders with %s -> %d in %s", method, shown, resp.StatusCode, resp.Header.Get("X-Handled-In"))
	if ch := resp.Header.Get("WWW-Authenticate"); ch != "" {
		fmt.Fprintf(out, ", WWW-Authenticate: %s", ch)
	}
	fmt.Fprintf(out, "\n")
	if len(body) > 0 && resp.StatusCode == http.StatusOK {
		fmt.Fprintf(out, "      %s", body)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("examples/verify: %s /orders answered %d; want %d", method, resp.StatusCode, want)
	}
	return nil
}
