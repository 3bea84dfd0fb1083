package oauth2auth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// exchangeIdP is a token endpoint (client credentials and token exchange)
// and the orders API, which takes only exchanged tokens, in one server.
func exchangeIdP() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.PostFormValue("grant_type") {
		case "client_credentials":
			fmt.Fprint(w, `{"access_token":"gateway-token","token_type":"Bearer","expires_in":3600}`)
		case "urn:ietf:params:oauth:grant-type:token-exchange":
			if r.PostFormValue("audience") != "orders" || r.PostFormValue("subject_token") == "" {
				http.Error(w, `{"error":"invalid_target"}`, http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, `{"access_token":"orders-token","token_type":"Bearer","expires_in":300,`+
				`"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}`)
		}
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer orders-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "2 orders")
	})
	return httptest.NewServer(mux)
}

// A gateway exchanges its own token for one scoped to the orders service
// (RFC 8693). The subject could as well be a signed-in user's
// DeviceAuthorizer or BrowserAuthorizer.
func ExampleNewTokenExchangeAuthorizer() {
	idp := exchangeIdP()
	defer idp.Close()
	env := oauth2auth.Environment{TokenURL: idp.URL + "/oauth2/token"}

	gateway, err := oauth2auth.NewServiceAccountAuthorizer(
		data.ClientInfo{ClientID: "gateway", ClientSecret: "example-secret"}, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	forOrders, err := oauth2auth.NewTokenExchangeAuthorizer(gateway, env, oauth2auth.WithAudiences("orders"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := base.NewClient(forOrders).Get(idp.URL + "/orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 2 orders
}

// Workload identity: the platform writes a JWT to a file and rewrites it
// before it expires; the subject token is read from the file for every
// exchange.
func ExampleNewTokenFile() {
	idp := exchangeIdP()
	defer idp.Close()
	dir, err := os.MkdirTemp("", "example-workload")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token")
	_ = os.WriteFile(path, []byte("eyJ.example.jwt\n"), 0o600) // what the platform does

	subject, err := oauth2auth.NewTokenFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	forOrders, err := oauth2auth.NewTokenExchangeAuthorizer(subject,
		oauth2auth.Environment{TokenURL: idp.URL + "/oauth2/token"},
		oauth2auth.WithExchangeClient(data.ClientInfo{ClientID: "workload", ClientSecret: "example-secret"}),
		oauth2auth.WithAudiences("orders"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := base.NewClient(forOrders).Get(idp.URL + "/orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}
