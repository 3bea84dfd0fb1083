package verify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// End to end: base.Transport sending a DPoP-bound token to
// verify.Middleware with server nonces, over real HTTP, on URLs whose htu
// both sides must normalise alike (break-dpop-docs review).

type probeBoundAuthorizer struct {
	tok   *oauth2.Token
	calls atomic.Int32
}

func (a *probeBoundAuthorizer) Authorize(context.Context) (*oauth2.Token, error) {
	a.calls.Add(1)
	return a.tok, nil
}
func (a *probeBoundAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}
func (a *probeBoundAuthorizer) Expired(*oauth2.Token) bool { return false }

func TestProbeDPoPEndToEndTransportAndMiddleware(t *testing.T) {
	dpFixtures(t)
	// Real time on both sides: the Transport signs with time.Now.
	v, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{Issuer: testIssuer, Audience: []string{testAudience}},
		WithDPoPNonces([]byte(strings.Repeat("k", 32)), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	raw := token(rsaKey(0), "RS256", "", with(goodClaims(), "iat", now-10, "exp", now+3600, "cnf", map[string]any{"jkt": dpKey.Thumbprint()}))
	var hits, passed atomic.Int32
	var captured atomic.Value
	h := Middleware(v, InsecureTrustHostHeader(), RequireDPoP())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed.Add(1)
		captured.Store(r.Header.Clone())
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip("no loopback")
		}
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	tok := dpop.Bind(&oauth2.Token{AccessToken: raw, TokenType: "DPoP", Expiry: time.Now().Add(time.Hour)}, dpKey)
	a := &probeBoundAuthorizer{tok: tok}
	client := base.NewClient(a)
	for _, path := range []string{"/v1/things", "/v1/A%2Fb", "/v1/a%20b/", "/v1/~x?q=1", "/"} {
		before := hits.Load()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d (WWW-Authenticate %q)", path, resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
		if n := hits.Load() - before; path == "/v1/things" && n != 2 || path != "/v1/things" && n != 1 {
			t.Errorf("%s: %d requests (first: one nonce challenge; then the remembered nonce)", path, n)
		}
	}
	if a.calls.Load() != 1 {
		t.Errorf("%d token fetches; a nonce challenge must not retire the token", a.calls.Load())
	}
	// The captured request, replayed as is: refused (jti seen).
	hdr := captured.Load().(http.Header)
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Errorf("replayed request: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
}
