// Package demoidp is an in-process OAuth 2.0 authorization server for the
// runnable examples (examples/verify, grpcauth/examples/grpc): a
// client-credentials token endpoint issuing RS256 JWT access tokens, its
// OpenID discovery document and its JWKS. It is for demonstrations and
// tests only: one fixed client, "orders-reporter" / "demo-secret".
package demoidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"
)

// Provider is an in-process OAuth 2.0 authorization server: a
// client-credentials token endpoint (RFC 6749 §4.4) that issues RS256 JWT
// access tokens (RFC 9068), its OpenID discovery document and its JWKS.
// It is safe for concurrent use; Close stops it.
type Provider struct {
	*httptest.Server
	key      *rsa.PrivateKey
	audience string
	lifetime time.Duration
	Tokens   atomic.Int64 // tokens issued at /token
	KeyReads atomic.Int64 // GET /jwks answered
}

// KeyID is the kid of the provider's signing key.
const KeyID = "demo-key-1"

// New starts a Provider on 127.0.0.1 that issues tokens for audience,
// valid for lifetime.
func New(audience string, lifetime time.Duration) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p := &Provider{key: key, audience: audience, lifetime: lifetime}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	p.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	return p, nil
}

// clients are the service accounts and the scopes each may have.
var clients = map[string]struct{ secret, scope string }{
	"orders-reporter": {"demo-secret", "orders:read"},
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	c, known := clients[id]
	if !ok || !known || secret != c.secret || r.PostFormValue("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
		return
	}
	now := time.Now()
	tok, err := p.Sign(map[string]any{"iss": p.URL, "sub": id, "client_id": id, "aud": p.audience,
		"scope": c.scope, "iat": now.Unix(), "exp": now.Add(p.lifetime).Unix(), "jti": rand.Text()})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "server_error"})
		return
	}
	p.Tokens.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(p.lifetime / time.Second), "scope": c.scope})
}

// Sign makes an RS256 JWT of claims with the provider's key.
func (p *Provider) Sign(claims map[string]any) (string, error) {
	return SignJWT(p.key, KeyID, claims)
}

// SignJWT makes an RS256 JWT of claims signed with key under kid.
func SignJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "at+jwt", "kid": kid})
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	in := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return in + "." + enc.EncodeToString(sig), nil
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"issuer": p.URL, "token_endpoint": p.URL + "/token",
		"jwks_uri": p.URL + "/jwks", "grant_types_supported": []string{"client_credentials"}})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.KeyReads.Add(1)
	pub := p.key.PublicKey
	w.Header().Set("Cache-Control", "max-age=900")
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": KeyID, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
