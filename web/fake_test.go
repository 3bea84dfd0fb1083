package web

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
)

// testKey is generated once for all tests (RSA generation is slow).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// clock is a controllable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type grant struct {
	challenge, nonce, sub, redirect string
}

// fakeIdP is an OpenID provider in the test process: its authorize endpoint
// signs the user in at once (sub from login_hint, default "alice").
type fakeIdP struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clock

	accessTTL     time.Duration
	sendIss       bool
	wrongNonce    bool
	noRefresh     bool
	noSid         bool
	editID        func(claims map[string]any) // changes the next ID tokens' claims
	badIDSig      bool
	refuseRefresh atomic.Bool
	refreshGate   chan struct{} // when set, refresh grants wait for it

	codeGrants    atomic.Int32
	refreshGrants atomic.Int32

	mu       sync.Mutex
	codes    map[string]grant
	refreshs map[string]string // live refresh token → sub
	jti      int
}

func newFakeIdP(t *testing.T, c *clock) *fakeIdP {
	f := &fakeIdP{t: t, clock: c, accessTTL: 5 * time.Minute, codes: map[string]grant{}, refreshs: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("post_logout_redirect_uri")+"?state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) issuer() string { return f.srv.URL }

func (f *fakeIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": f.issuer(), "authorization_endpoint": f.issuer() + "/authorize",
		"token_endpoint": f.issuer() + "/token", "jwks_uri": f.issuer() + "/jwks",
		"end_session_endpoint": f.issuer() + "/logout", "authorization_response_iss_parameter_supported": f.sendIss,
	})
}

func (f *fakeIdP) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := testKey().PublicKey
	b64 := base64.RawURLEncoding.EncodeToString
	json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		f.t.Errorf("authorize: %v", q)
	}
	sub := q.Get("login_hint")
	if sub == "" {
		sub = "alice"
	}
	code := randomString(16)
	f.mu.Lock()
	f.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), sub: sub, redirect: q.Get("redirect_uri")}
	f.mu.Unlock()
	back := q.Get("redirect_uri") + "?code=" + code + "&state=" + url.QueryEscape(q.Get("state"))
	if f.sendIss {
		back += "&iss=" + url.QueryEscape(f.issuer())
	}
	http.Redirect(w, r, back, http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	if id, secret, _ := r.BasicAuth(); id != "web-app" || secret != "web-secret" {
		f.t.Errorf("token: basic auth %q", id)
	}
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		f.codeGrants.Add(1)
		f.mu.Lock()
		g, ok := f.codes[r.PostFormValue("code")]
		delete(f.codes, r.PostFormValue("code"))
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostFormValue("redirect_uri") != g.redirect {
			writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		nonce := g.nonce
		if f.wrongNonce {
			nonce = "not-the-nonce"
		}
		f.answer(w, g.sub, nonce)
	case "refresh_token":
		f.refresh(w, r)
	default:
		writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
	}
}

func (f *fakeIdP) refresh(w http.ResponseWriter, r *http.Request) {
	f.refreshGrants.Add(1)
	if f.refreshGate != nil {
		<-f.refreshGate
	}
	f.mu.Lock()
	sub, ok := f.refreshs[r.PostFormValue("refresh_token")]
	delete(f.refreshs, r.PostFormValue("refresh_token")) // rotation: used once
	f.mu.Unlock()
	if !ok || f.refuseRefresh.Load() {
		writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
		return
	}
	f.answer(w, sub, "")
}

// answer issues realistic tokens: an RS256 ID token and access token, and an
// opaque refresh token (rotated on every use).
func (f *fakeIdP) answer(w http.ResponseWriter, sub, nonce string) {
	now := f.clock.Now()
	claims := map[string]any{"iss": f.issuer(), "sub": sub, "aud": "web-app", "azp": "web-app",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "sid": "sid-" + sub,
		"email": sub + "@example.test", "name": strings.ToUpper(sub)}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if f.noSid {
		delete(claims, "sid")
	}
	if f.editID != nil {
		f.editID(claims)
	}
	body := map[string]any{
		"access_token": f.sign(map[string]any{"iss": f.issuer(), "sub": sub, "aud": "urn:api", "iat": now.Unix(),
			"exp": now.Add(f.accessTTL).Unix(), "scope": "openid email profile offline_access", "jti": randomString(12)}),
		"token_type": "Bearer", "expires_in": int(f.accessTTL / time.Second), "id_token": f.sign(claims),
	}
	if f.badIDSig {
		id := body["id_token"].(string)
		body["id_token"] = id[:len(id)-8] + "AAAAAAAA"
	}
	if !f.noRefresh {
		rt := randomString(48)
		f.mu.Lock()
		f.refreshs[rt] = sub
		f.mu.Unlock()
		body["refresh_token"] = rt
	}
	writeJSON(w, 200, body)
}

func (f *fakeIdP) sign(claims map[string]any) string {
	return signJWT(map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}, claims)
}

func signJWT(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, testKey(), crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// logoutToken is a back-channel logout token for sid.
func (f *fakeIdP) logoutToken(sub, sid string, extra map[string]any) string {
	f.mu.Lock()
	f.jti++
	jti := f.jti
	f.mu.Unlock()
	c := map[string]any{"iss": f.issuer(), "aud": "web-app", "iat": f.clock.Now().Unix(), "exp": f.clock.Now().Add(2 * time.Minute).Unix(),
		"jti": "jti-" + string(rune('a'+jti)), "events": map[string]any{backChannelEvent: map[string]any{}}}
	if sub != "" {
		c["sub"] = sub
	}
	if sid != "" {
		c["sid"] = sid
	}
	for k, v := range extra {
		c[k] = v
	}
	return signJWT(map[string]any{"alg": "RS256", "kid": "k1", "typ": "logout+jwt"}, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// logBuffer captures the middleware's logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// rig is an app behind the middleware, its fake provider, and a browser.
type rig struct {
	t     *testing.T
	idp   *fakeIdP
	clock *clock
	login *Login
	app   *httptest.Server
	logs  *logBuffer
	seen  atomic.Pointer[http.Request] // the last request the app saw
}

func newRig(t *testing.T, edit func(*Config, *fakeIdP)) *rig {
	c := newClock()
	rg := &rig{t: t, clock: c, idp: newFakeIdP(t, c), logs: &logBuffer{}}
	rg.app = httptest.NewUnstartedServer(nil)
	cfg := Config{
		Issuer: rg.idp.issuer(), Client: data.ClientInfo{ClientID: "web-app", ClientSecret: "web-secret"},
		ExternalURL: "http://" + rg.app.Listener.Addr().String(), ProtectedPaths: []string{"/private/", "/account"},
		SessionSecret: strings.Repeat("s", 32), Now: c.Now, HTTPClient: rg.idpClient(),
		Logger: slog.New(slog.NewTextHandler(rg.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg, rg.idp)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	rg.login = l
	rg.app.Config.Handler = l.Wrap(http.HandlerFunc(rg.serveApp))
	rg.app.Start()
	t.Cleanup(rg.app.Close)
	return rg
}

func (rg *rig) serveApp(w http.ResponseWriter, r *http.Request) {
	rg.seen.Store(r)
	id, ok := IdentityFrom(r.Context())
	if !ok {
		w.Write([]byte("anonymous"))
		return
	}
	tok, err := id.Authorize(r.Context())
	if err != nil {
		http.Error(w, "token: "+err.Error(), 500)
		return
	}
	w.Write([]byte("hello " + id.Subject + " " + data.Fingerprint(tok.AccessToken)))
}

// idpClient is the middleware's client for the provider; its connections
// are closed when the test ends.
func (rg *rig) idpClient() *http.Client {
	tr := &http.Transport{}
	rg.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// browser is an http.Client with a cookie jar that follows redirects.
func (rg *rig) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// noFollow is a browser that stops at the first redirect.
func noFollow(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (rg *rig) get(c *http.Client, path string) (int, string) {
	rg.t.Helper()
	req, _ := http.NewRequest("GET", rg.app.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// signIn signs a new browser in by visiting a protected page.
func (rg *rig) signIn() *http.Client {
	rg.t.Helper()
	c := rg.browser()
	if status, body := rg.get(c, "/private/page"); status != 200 || !strings.HasPrefix(body, "hello alice") {
		rg.t.Fatalf("sign in: %d %q", status, body)
	}
	return c
}

func slogTo(b *logBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

var testClient = data.ClientInfo{ClientID: "web-app"}
