package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
)

// identityProvider is an in-process token endpoint (client credentials,
// RFC 6749 §4.4) and a protected API that accepts its live tokens.
type identityProvider struct {
	*httptest.Server
	lifetime time.Duration

	mu       sync.Mutex
	live     map[string]time.Time // token -> expiry
	tokens   int
	calls    int
	refusals int
}

func newIdentityProvider(lifetime time.Duration) *identityProvider {
	p := &identityProvider{lifetime: lifetime, live: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /orders", p.orders)
	p.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	return p
}

func (p *identityProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != "orders-service" || secret != "demo-secret" || r.PostFormValue("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	tok := rand.Text()
	p.mu.Lock()
	p.tokens++
	p.live[tok] = time.Now().Add(p.lifetime)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(p.lifetime / time.Second),
	})
}

func (p *identityProvider) orders(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get(data.AuthorizationHeader), "Bearer ")
	p.mu.Lock()
	p.calls++
	exp, ok := p.live[tok]
	valid := ok && time.Now().Before(exp) && r.Header.Get(data.APIKeyHeader) == "demo-api-key"
	if !valid {
		p.refusals++
	}
	p.mu.Unlock()
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "token refused")
		return
	}
	fmt.Fprintf(w, "orders for token %s\n", data.Fingerprint(tok))
}

func (p *identityProvider) revokeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.live)
}

func (p *identityProvider) tokenRequests() int { p.mu.Lock(); defer p.mu.Unlock(); return p.tokens }
func (p *identityProvider) apiCalls() int      { p.mu.Lock(); defer p.mu.Unlock(); return p.calls }
func (p *identityProvider) rejected() int      { p.mu.Lock(); defer p.mu.Unlock(); return p.refusals }
