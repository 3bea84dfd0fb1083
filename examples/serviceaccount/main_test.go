package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRun runs the program against a fake provider and API: one token
// request serves both API calls.
func TestRun(t *testing.T) {
	var tokens, calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		tokens.Add(1)
		if id, secret, ok := r.BasicAuth(); !ok || id != "job" || secret != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer at" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t.Setenv("SATEST_TOKEN_URL", srv.URL+"/token")
	t.Setenv("SATEST_CLIENT_ID", "job")
	t.Setenv("SATEST_CLIENT_SECRET", "s3cret")
	if err := run("SATEST", srv.URL+"/api", "client_secret_basic", false); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := tokens.Load(); got != 1 {
		t.Errorf("token requests = %d; want 1", got)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("API calls = %d; want 2", got)
	}

	t.Setenv("SATEST_CLIENT_SECRET", "wrong")
	err := run("SATEST", "", "client_secret_basic", false)
	if err == nil {
		t.Fatal("run with a wrong secret succeeded")
	}
	if got := explain(err); !strings.Contains(got, "hint: check the client id and secret") {
		t.Errorf("explain(%v) = %q; want a client hint", err, got)
	}
}
