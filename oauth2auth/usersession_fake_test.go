package oauth2auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeIdP is a small OpenID provider for unit tests: discovery, JWKS,
// device authorization, an authorization endpoint that approves at once
// (a user already signed in), a token endpoint that checks PKCE, rotates
// refresh tokens and signs ID tokens, and revocation. Test code changes
// its behaviour through the exported-looking fields under mu.
type fakeIdP struct {
	t   testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey

	mu            sync.Mutex
	pending       int    // authorization_pending answers before the device token
	deviceError   string // when set, the device token poll answers this error code
	refreshError  string // when set, refresh answers this error code
	rotate        bool   // issue a new refresh token on refresh
	idIssuer      string // iss of ID tokens; default the server URL
	idAudience    string // aud of ID tokens; default the client id
	badNonce      bool   // put a different nonce in ID tokens
	noIDToken     bool
	authorizeErr  string            // the authorization endpoint redirects with this error
	challenges    map[string]string // code -> code_challenge
	nonces        map[string]string // code -> nonce
	requests      []url.Values      // token endpoint forms
	revoked       []url.Values      // revocation forms
	authQueries   []url.Values      // authorization requests
	deviceForms   []url.Values
	tokenCount    int
	revokeStatus  int
	revokeErrCode string
	dpop          fakeDPoP // DPoP at the token endpoint (dpop_test.go)
}

func newFakeIdP(t testing.TB) *fakeIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{t: t, key: key, rotate: true, challenges: map[string]string{}, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("POST /device/auth", f.deviceAuth)
	mux.HandleFunc("GET /auth", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /revoke", f.revoke)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) env(scopes ...string) Environment {
	return Environment{Issuer: f.srv.URL, Scopes: scopes}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	u := f.srv.URL
	writeJSON(w, 200, map[string]any{"issuer": u, "token_endpoint": u + "/token",
		"authorization_endpoint": u + "/auth", "device_authorization_endpoint": u + "/device/auth",
		"revocation_endpoint": u + "/revoke", "jwks_uri": u + "/jwks"})
}

func (f *fakeIdP) jwks(w http.ResponseWriter, _ *http.Request) {
	b64 := base64.RawURLEncoding.EncodeToString
	writeJSON(w, 200, map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "alg": "RS256",
		"use": "sig", "n": b64(f.key.N.Bytes()), "e": b64(big.NewInt(int64(f.key.E)).Bytes())}}})
}

func (f *fakeIdP) deviceAuth(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.deviceForms = append(f.deviceForms, r.PostForm)
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"device_code": "DEVICE-CODE-SECRET", "user_code": "ABCD-EFGH",
		"verification_uri": f.srv.URL + "/device", "verification_uri_complete": f.srv.URL + "/device?user_code=ABCD-EFGH",
		"expires_in": 600})
}

// authorize approves at once: it redirects to redirect_uri with a code.
func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.authQueries = append(f.authQueries, q)
	code := fmt.Sprintf("AUTH-CODE-SECRET-%d", len(f.authQueries))
	f.challenges[code] = q.Get("code_challenge")
	f.nonces[code] = q.Get("nonce")
	authErr := f.authorizeErr
	f.mu.Unlock()
	back := url.Values{"state": {q.Get("state")}, "iss": {f.srv.URL}}
	if authErr != "" {
		back.Set("error", authErr)
	} else {
		back.Set("code", code)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusSeeOther)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	form := r.PostForm
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, form)
	jwk, ok := f.dpop.check(w, r)
	if !ok {
		return
	}
	switch form.Get("grant_type") {
	case deviceGrantType:
		if f.pending > 0 {
			f.pending--
			writeJSON(w, 400, map[string]any{"error": "authorization_pending"})
			return
		}
		if f.deviceError != "" {
			writeJSON(w, 400, map[string]any{"error": f.deviceError})
			return
		}
		f.issue(w, form.Get("client_id"), "")
	case "authorization_code":
		code := form.Get("code")
		ch, ok := f.challenges[code]
		delete(f.challenges, code)
		if !ok || s256(form.Get("code_verifier")) != ch {
			writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		f.issue(w, form.Get("client_id"), f.nonces[code])
	case "refresh_token":
		if f.refreshError != "" {
			writeJSON(w, 400, map[string]any{"error": f.refreshError})
			return
		}
		if bound := f.dpop.bound[form.Get("refresh_token")]; bound != "" && bound != jwk {
			writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "failed jkt verification"})
			return
		}
		f.issue(w, form.Get("client_id"), "")
	case "client_credentials", grantTokenExchange:
		f.issue(w, "client", "")
	default:
		writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
	}
}

// issue answers with new tokens; f.mu is held.
func (f *fakeIdP) issue(w http.ResponseWriter, clientID, nonce string) {
	f.tokenCount++
	n := f.tokenCount
	resp := map[string]any{"access_token": fmt.Sprintf("ACCESS-SECRET-%d", n), "token_type": "Bearer", "expires_in": 3600,
		"issued_token_type": TokenTypeAccessToken}
	if f.rotate || n == 1 {
		resp["refresh_token"] = fmt.Sprintf("REFRESH-SECRET-%d", n)
	}
	f.dpop.issued(resp)
	if !f.noIDToken {
		resp["id_token"] = f.idToken(clientID, nonce)
	}
	writeJSON(w, 200, resp)
}

// idToken signs an RS256 ID token.
func (f *fakeIdP) idToken(clientID, nonce string) string {
	iss, aud := f.srv.URL, clientID
	if f.idIssuer != "" {
		iss = f.idIssuer
	}
	if f.idAudience != "" {
		aud = f.idAudience
	}
	if f.badNonce {
		nonce = "another-nonce"
	}
	claims := map[string]any{"iss": iss, "aud": aud, "sub": "alice", "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	seg := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	input := seg(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"}) + "." + seg(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		f.t.Error(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (f *fakeIdP) revoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, r.PostForm)
	if f.revokeStatus != 0 {
		writeJSON(w, f.revokeStatus, map[string]any{"error": f.revokeErrCode})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// lastRequest returns the last token request's form.
func (f *fakeIdP) lastRequest() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

// httpOpener is a BrowserOpener that follows the authorization URL over
// plain HTTP (the fake approves at once) and reports the landing page.
func httpOpener(pages chan<- *page) BrowserOpener {
	return func(_ context.Context, authURL string) error {
		go func() {
			// A browser lives on its own, not under the sign-in's context.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
			resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				pages <- &page{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			pages <- &page{url: resp.Request.URL, status: resp.StatusCode, body: string(b)}
		}()
		return nil
	}
}
