package oauth2auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// serviceAccountIdP is a token endpoint and a protected API in one server.
func serviceAccountIdP() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := r.BasicAuth()
		if id != "reports-job" || r.PostFormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"example-access-token","token_type":"Bearer","expires_in":3600,"scope":"reports:read"}`)
	})
	mux.HandleFunc("GET /api/reports", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer example-access-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "3 reports")
	})
	return httptest.NewServer(mux)
}

// A batch job calls an API as itself: the client-credentials grant gets its
// token, and base.NewClient keeps the token fresh for every request.
func ExampleNewServiceAccountAuthorizer() {
	idp := serviceAccountIdP()
	defer idp.Close()

	env := oauth2auth.Environment{
		Name:     "dev",
		TokenURL: idp.URL + "/oauth2/token",
		Scopes:   []string{"reports:read"},
	}
	info := data.ClientInfo{ClientID: "reports-job", ClientSecret: "example-secret"}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := base.NewClient(authz)

	resp, err := client.Get(idp.URL + "/api/reports")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 3 reports
}

// The token itself, e.g. for a non-HTTP protocol. Print tokens only as
// fingerprints.
func ExampleServiceAccountAuthorizer_Authorize() {
	idp := serviceAccountIdP()
	defer idp.Close()

	authz, err := oauth2auth.NewServiceAccountAuthorizer(
		data.ClientInfo{ClientID: "reports-job", ClientSecret: "example-secret"},
		oauth2auth.Environment{TokenURL: idp.URL + "/oauth2/token"},
		oauth2auth.WithClientAuth(oauth2auth.ClientSecretBasic))
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := authz.Authorize(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Type(), data.Fingerprint(tok.AccessToken), tok.ExpiresIn, tok.Extra("scope"))
	// Output: Bearer sha256:6753f72e 3600 reports:read
}

// Named environments: defined in code, or loaded from the process
// environment (DEV_ISSUER, DEV_SCOPES, …) or a JSON file.
func ExampleEnvironmentFromEnv() {
	envs := map[string]oauth2auth.Environment{
		"dev":  {Name: "dev", Issuer: "https://dev-idp.example.com"},
		"prod": oauth2auth.CognitoEnvironment("prod", "my-pool", "eu-west-1", "https://api.example.com/read"),
	}
	if staging, err := oauth2auth.EnvironmentFromEnv("STAGING"); err == nil {
		envs["staging"] = staging
	}
	fmt.Println(envs["prod"].TokenURL)
	// Output: https://my-pool.auth.eu-west-1.amazoncognito.com/oauth2/token
}
