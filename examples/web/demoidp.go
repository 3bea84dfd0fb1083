package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// demoProvider is an in-process OpenID provider for -demo: a login page
// that takes any name, the authorization code flow with PKCE S256, RS256
// ID and access tokens (60 s), rotating refresh tokens, and an
// end_session_endpoint. It is for trying the example without an account
// anywhere; never use it for anything else.
type demoProvider struct {
	url    string
	key    *rsa.PrivateKey
	client string
	secret string

	mu      sync.Mutex // guards codes and refresh
	codes   map[string]demoGrant
	refresh map[string]string // refresh token → user
}

type demoGrant struct{ user, nonce, challenge, redirect string }

var demoLogin = template.Must(template.New("login").Parse(`<!doctype html><meta charset="utf-8"><title>demo provider</title>
<h1>Demo provider: sign in</h1><form method="post">{{range $k, $v := .}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<label>Any name <input name="login" autofocus required></label> <button>Sign in</button></form>`))

func startDemoProvider(client, secret string) (*demoProvider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &demoProvider{url: "http://" + ln.Addr().String(), key: key, client: client, secret: secret,
		codes: map[string]demoGrant{}, refresh: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) { demoLogin.Execute(w, r.URL.Query()) })
	mux.HandleFunc("POST /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("post_logout_redirect_uri")+"?state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	go http.Serve(ln, mux)
	return p, nil
}

func (p *demoProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{"issuer": p.url, "authorization_endpoint": p.url + "/authorize",
		"token_endpoint": p.url + "/token", "jwks_uri": p.url + "/jwks", "end_session_endpoint": p.url + "/logout"})
}

func (p *demoProvider) jwks(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "demo", "alg": "RS256", "use": "sig",
		"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes())}}})
}

func (p *demoProvider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("client_id") != p.client || r.PostFormValue("code_challenge_method") != "S256" || r.PostFormValue("login") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code := randomToken()
	p.mu.Lock()
	p.codes[code] = demoGrant{user: r.PostFormValue("login"), nonce: r.PostFormValue("nonce"),
		challenge: r.PostFormValue("code_challenge"), redirect: r.PostFormValue("redirect_uri")}
	p.mu.Unlock()
	http.Redirect(w, r, r.PostFormValue("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(r.PostFormValue("state")), http.StatusFound)
}

func (p *demoProvider) token(w http.ResponseWriter, r *http.Request) {
	if id, secret, _ := r.BasicAuth(); id != p.client || secret != p.secret {
		demoJSON(w, 401, map[string]any{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		g, ok := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostFormValue("redirect_uri") != g.redirect {
			demoJSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		p.issue(w, g.user, g.nonce)
	case "refresh_token":
		user, ok := p.refresh[r.PostFormValue("refresh_token")]
		delete(p.refresh, r.PostFormValue("refresh_token"))
		if !ok {
			demoJSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		p.issue(w, user, "")
	default:
		demoJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
	}
}

// issue answers with tokens for user; p.mu is held.
func (p *demoProvider) issue(w http.ResponseWriter, user, nonce string) {
	now := time.Now()
	id := map[string]any{"iss": p.url, "sub": user, "aud": p.client, "azp": p.client, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "name": user, "email": user + "@demo.example"}
	if nonce != "" {
		id["nonce"] = nonce
	}
	access := map[string]any{"iss": p.url, "sub": user, "aud": "demo-api", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	rt := randomToken()
	p.refresh[rt] = user
	demoJSON(w, 200, map[string]any{"access_token": p.sign(access), "id_token": p.sign(id), "refresh_token": rt,
		"token_type": "Bearer", "expires_in": 60})
}

func (p *demoProvider) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "demo", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func demoJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
