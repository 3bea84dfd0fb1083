package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"go.uber.org/goleak"
)

// TestMain checks for leaked goroutines once the shared transport's idle
// connections (the tests' browsers) are closed.
func TestMain(m *testing.M) {
	code := m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

func TestSignInReturnsToThePageAsked(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.browser()
	status, body := rg.get(c, "/private/page?x=1")
	if status != 200 || !strings.HasPrefix(body, "hello alice") {
		t.Fatalf("got %d %q; want the page as alice", status, body)
	}
	if got := rg.seen.Load().URL.RequestURI(); got != "/private/page?x=1" {
		t.Errorf("returned to %q; want /private/page?x=1", got)
	}
	if rg.idp.codeGrants.Load() != 1 {
		t.Errorf("code grants %d; want 1", rg.idp.codeGrants.Load())
	}
	// A second visit uses the session: no new login.
	if status, _ := rg.get(c, "/account/"); status != 200 || rg.idp.codeGrants.Load() != 1 {
		t.Errorf("second visit: %d, %d code grants", status, rg.idp.codeGrants.Load())
	}
}

func TestAppSeesNoMiddlewareCookieAndNoSpoofedHeaders(t *testing.T) {
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.IdentityHeaders = true })
	c := rg.signIn()
	u, _ := url.Parse(rg.app.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "app", Value: "1"}})
	req, _ := http.NewRequest("GET", rg.app.URL+"/public", nil)
	req.Header.Set("X-Forwarded-User", "mallory")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := rg.seen.Load()
	if got := seen.Header.Get("Cookie"); got != "app=1" {
		t.Errorf("app got Cookie %q; want only app=1", got)
	}
	if got := seen.Header.Get("X-Forwarded-User"); got != "alice" {
		t.Errorf("X-Forwarded-User %q; want alice", got)
	}
	// Anonymous: the spoofed header is removed, not passed on.
	req, _ = http.NewRequest("GET", rg.app.URL+"/public", nil)
	req.Header.Set("X-Forwarded-User", "mallory")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if got := rg.seen.Load().Header.Get("X-Forwarded-User"); got != "" {
		t.Errorf("anonymous X-Forwarded-User %q; want none", got)
	}
}

func TestProtectedWithoutSession(t *testing.T) {
	rg := newRig(t, nil)
	c := noFollow(rg.browser())
	for _, tc := range []struct {
		name, method, accept string
		want                 int
	}{
		{"browser GET", "GET", "text/html", http.StatusFound},
		{"HEAD", "HEAD", "text/html", http.StatusFound},
		{"POST", "POST", "text/html", http.StatusUnauthorized},
		{"DELETE", "DELETE", "", http.StatusUnauthorized},
		{"GET asking JSON", "GET", "application/json", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, rg.app.URL+"/private/x", nil)
			req.Header.Set("Accept", tc.accept)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("got %d; want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestLoginRedirectCarriesPKCEStateNonce(t *testing.T) {
	rg := newRig(t, nil)
	resp, err := noFollow(rg.browser()).Get(rg.app.URL + "/private/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 { // 32 random bytes, base64url
			t.Errorf("%s %q shorter than 256 bits", k, q.Get(k))
		}
	}
	if q.Get("redirect_uri") != rg.app.URL+"/oidc_callback" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("redirect_uri %q method %q", q.Get("redirect_uri"), q.Get("code_challenge_method"))
	}
	var flow *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, "web_session_f_") {
			flow = ck
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.MaxAge != 600 || flow.Path != "/" {
		t.Fatalf("flow cookie %+v", flow)
	}
	if strings.Contains(flow.Value, q.Get("nonce")) {
		t.Error("flow cookie shows the nonce")
	}
}

func TestRedirectURIFromExternalURLNotHost(t *testing.T) {
	rg := newRig(t, nil)
	req, _ := http.NewRequest("GET", rg.app.URL+"/private/x", nil)
	req.Host = "evil.example"
	resp, err := noFollow(rg.browser()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("redirect_uri"); got != rg.app.URL+"/oidc_callback" {
		t.Errorf("redirect_uri %q; want the ExternalURL's", got)
	}
}

// startFlow begins a login in c and returns the provider's redirect back
// (the callback URL with code and state), not followed.
func startFlow(t *testing.T, rg *rig, c *http.Client) *url.URL {
	t.Helper()
	nf := noFollow(c)
	resp, err := nf.Get(rg.app.URL + "/private/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = nf.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	return back
}

func TestCallbackRefusals(t *testing.T) {
	t.Run("forged state: code not redeemed", func(t *testing.T) {
		rg := newRig(t, nil)
		c := rg.browser()
		back := startFlow(t, rg, c)
		q := back.Query()
		q.Set("state", q.Get("state")[:16]+strings.Repeat("A", 27))
		back.RawQuery = q.Encode()
		resp, _ := noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 400 || rg.idp.codeGrants.Load() != 0 {
			t.Errorf("got %d with %d code grants; want 400 and none", resp.StatusCode, rg.idp.codeGrants.Load())
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		rg := newRig(t, nil)
		c := rg.browser()
		back := startFlow(t, rg, c)
		resp, _ := noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 302 {
			t.Fatalf("first callback %d", resp.StatusCode)
		}
		resp, _ = noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 400 || rg.idp.codeGrants.Load() != 1 {
			t.Errorf("replay: %d with %d code grants; want 400 and 1", resp.StatusCode, rg.idp.codeGrants.Load())
		}
	})
	t.Run("wrong nonce", func(t *testing.T) {
		rg := newRig(t, func(_ *Config, f *fakeIdP) { f.wrongNonce = true })
		status, _ := rg.get(rg.browser(), "/private/x")
		if status != http.StatusBadGateway {
			t.Errorf("got %d; want 502", status)
		}
		if !strings.Contains(rg.logs.String(), "nonce does not match") {
			t.Errorf("log does not say why: %s", rg.logs.String())
		}
	})
	t.Run("wrong iss parameter", func(t *testing.T) {
		rg := newRig(t, func(_ *Config, f *fakeIdP) { f.sendIss = true })
		c := rg.browser()
		back := startFlow(t, rg, c)
		q := back.Query()
		q.Set("iss", "https://evil.example")
		back.RawQuery = q.Encode()
		resp, _ := noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 400 || rg.idp.codeGrants.Load() != 0 {
			t.Errorf("got %d, %d grants; want 400 and none", resp.StatusCode, rg.idp.codeGrants.Load())
		}
	})
	t.Run("missing iss when the provider says it sends it", func(t *testing.T) {
		rg := newRig(t, func(_ *Config, f *fakeIdP) { f.sendIss = true })
		c := rg.browser()
		back := startFlow(t, rg, c)
		q := back.Query()
		q.Del("iss")
		back.RawQuery = q.Encode()
		resp, _ := noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("got %d; want 400", resp.StatusCode)
		}
	})
	t.Run("expired flow", func(t *testing.T) {
		rg := newRig(t, nil)
		c := rg.browser()
		back := startFlow(t, rg, c)
		rg.clock.Add(11 * time.Minute)
		resp, _ := noFollow(c).Get(back.String())
		resp.Body.Close()
		if resp.StatusCode != 400 || rg.idp.codeGrants.Load() != 0 {
			t.Errorf("got %d; want 400", resp.StatusCode)
		}
	})
}

func TestAtMostFiveFlows(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.browser()
	var backs []*url.URL
	for range 7 {
		backs = append(backs, startFlow(t, rg, c))
		rg.clock.Add(time.Second)
	}
	u, _ := url.Parse(rg.app.URL)
	n := 0
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "web_session_f_") {
			n++
		}
	}
	if n != maxFlows {
		t.Errorf("%d flow cookies; want %d", n, maxFlows)
	}
	// The newest tab still completes.
	resp, _ := noFollow(c).Get(backs[6].String())
	resp.Body.Close()
	if resp.StatusCode != 302 {
		t.Errorf("newest flow: %d", resp.StatusCode)
	}
}

func TestConcurrentRequestsShareOneRefresh(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	rg.idp.refreshGate = make(chan struct{})
	rg.clock.Add(10 * time.Minute) // the access token (5 min) has expired
	var wg sync.WaitGroup
	results := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			status, body := rg.get(c, "/private/x")
			results <- strings.Join([]string{http.StatusText(status), body}, " ")
		})
	}
	// Wait until the one grant is at the provider, then let it answer.
	for rg.idp.refreshGrants.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(rg.idp.refreshGate)
	wg.Wait()
	close(results)
	for r := range results {
		if !strings.HasPrefix(r, "OK hello alice") {
			t.Errorf("request: %q", r)
		}
	}
	if got := rg.idp.refreshGrants.Load(); got != 1 {
		t.Errorf("refresh grants %d; want 1", got)
	}
	// The rotated refresh token was kept: the next expiry refreshes again.
	rg.clock.Add(10 * time.Minute)
	if status, body := rg.get(c, "/private/x"); status != 200 || rg.idp.refreshGrants.Load() != 2 {
		t.Errorf("second refresh: %d %q, %d grants", status, body, rg.idp.refreshGrants.Load())
	}
}

func TestOldCookieAfterRefreshGetsTheNewSession(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	u, _ := url.Parse(rg.app.URL)
	old := c.Jar.Cookies(u)
	rg.clock.Add(10 * time.Minute)
	rg.get(c, "/private/x") // refreshes; c gets the new cookie
	stale := rg.browser()
	stale.Jar.SetCookies(u, old)
	if status, body := rg.get(stale, "/private/x"); status != 200 || !strings.HasPrefix(body, "hello alice") {
		t.Errorf("old cookie: %d %q; want served", status, body)
	}
	if got := rg.idp.refreshGrants.Load(); got != 1 {
		t.Errorf("refresh grants %d; want 1 (the rotated token not redeemed twice)", got)
	}
}

func TestRefusedRefreshEndsSession(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	rg.idp.refuseRefresh.Store(true)
	rg.clock.Add(10 * time.Minute)
	resp, err := noFollow(c).Get(rg.app.URL + "/private/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), rg.idp.issuer()+"/authorize") {
		t.Errorf("got %d to %q; want the login redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", rg.app.URL+"/private/x", nil)
	req.Header.Set("Accept", "application/json")
	resp, _ = c.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("API request after refused refresh: %d; want 401", resp.StatusCode)
	}
}

func TestIdentityAsAuthorizer(t *testing.T) {
	rg := newRig(t, nil)
	rg.signIn()
	// The app's own call: Authorize after expiry refreshes once.
	s := rg.seen.Load()
	id, ok := IdentityFrom(s.Context())
	if !ok {
		t.Fatal("no identity")
	}
	first, _ := id.Authorize(t.Context())
	rg.clock.Add(10 * time.Minute)
	if !id.Expired(first) {
		t.Error("Expired false after expiry")
	}
	tok, err := id.Authorize(t.Context())
	if err != nil || tok.AccessToken == first.AccessToken || rg.idp.refreshGrants.Load() != 1 {
		t.Errorf("Authorize after expiry: %v, refreshed %v", err, tok != nil && tok.AccessToken != first.AccessToken)
	}
	var extra struct {
		Email string `json:"email"`
	}
	if err := id.Decode(&extra); err != nil || extra.Email != "alice@example.test" {
		t.Errorf("Decode: %v %q", err, extra.Email)
	}
	if s := id.String(); strings.Contains(s, tok.AccessToken) || strings.Contains(s, id.IDToken()) {
		t.Error("Identity prints a token")
	}
}

func TestNoRefreshTokenIsInvalidCredentials(t *testing.T) {
	rg := newRig(t, func(_ *Config, f *fakeIdP) { f.noRefresh = true })
	rg.signIn()
	id, _ := IdentityFrom(rg.seen.Load().Context())
	rg.clock.Add(10 * time.Minute)
	_, err := id.Refresh(t.Context(), nil)
	var ic *authorizer.InvalidCredentialsError
	if !errors.As(err, &ic) {
		t.Errorf("got %v; want *InvalidCredentialsError", err)
	}
}

func TestKillSwitchAndNoToggleRoute(t *testing.T) {
	rg := newRig(t, nil)
	// The seed's toggle route is an ordinary path: it switches nothing.
	rg.get(rg.browser(), "/toggle-feature/ags_client")
	resp, _ := noFollow(rg.browser()).Get(rg.app.URL + "/private/x")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("after /toggle-feature: %d; want the login redirect", resp.StatusCode)
	}
	logs := &logBuffer{}
	l, err := New(Config{Issuer: "https://id.example", Client: data.ClientInfo{ClientID: "x"}, ExternalURL: "https://app.example",
		SessionSecret: strings.Repeat("k", 32), Disabled: true, Logger: slogTo(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	app := http.NotFoundHandler()
	if h := l.Wrap(app); h == nil || !strings.Contains(logs.String(), "DISABLED") {
		t.Error("kill switch not logged")
	}
}

func TestIDTokenChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(map[string]any)
		badSig bool
	}{
		{"bad signature", nil, true},
		{"other issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, false},
		{"other audience", func(c map[string]any) { c["aud"] = "other-app" }, false},
		{"azp of another client", func(c map[string]any) { c["azp"] = "other-app" }, false},
		{"two audiences without azp", func(c map[string]any) { c["aud"] = []string{"web-app", "other"}; delete(c, "azp") }, false},
		{"expired", func(c map[string]any) { c["exp"] = time.Unix(1_800_000_000, 0).Add(-time.Hour).Unix() }, false},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }, false},
		{"no sub", func(c map[string]any) { delete(c, "sub") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t, func(_ *Config, f *fakeIdP) { f.editID, f.badIDSig = tc.edit, tc.badSig })
			if status, body := rg.get(rg.browser(), "/private/x"); status != http.StatusBadGateway {
				t.Errorf("got %d %.80q; want 502 (sign-in failed)", status, body)
			}
		})
	}
}

func TestProviderErrorAndUnsafeReturnTargets(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.browser()
	back := startFlow(t, rg, c)
	q := back.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	back.RawQuery = q.Encode()
	resp, _ := noFollow(c).Get(back.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || rg.idp.codeGrants.Load() != 0 {
		t.Errorf("access_denied: %d; want 403", resp.StatusCode)
	}
	// The sign-out form's rd is the one target taken from a request.
	rg2 := newRig(t, func(c *Config, f *fakeIdP) {})
	c2 := rg2.signIn()
	for _, rd := range []string{"//evil.example", "/\\evil.example", "https://evil.example"} {
		req, _ := http.NewRequest("POST", rg2.app.URL+"/sign-out", strings.NewReader(url.Values{"rd": {rd}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", rg2.app.URL)
		resp, err := c2.Do(req) // follows the provider's logout back to the app
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Host != strings.TrimPrefix(rg2.app.URL, "http://") || resp.Request.URL.Path != "/" {
			t.Errorf("rd %q ended at %s; want / on the app", rd, resp.Request.URL)
		}
	}
}

// Close ends a refresh grant in flight and waits for it; later refreshes
// fail with authorizer.ErrClosed.
func TestCloseEndsRefreshInFlight(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	gate := make(chan struct{})
	rg.idp.refreshGate = gate
	defer close(gate)
	rg.clock.Add(10 * time.Minute)
	done := make(chan int)
	go func() {
		status, _ := rg.get(c, "/private/x")
		done <- status
	}()
	for rg.idp.refreshGrants.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := rg.login.Close(); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != http.StatusInternalServerError {
		t.Errorf("request during Close: %d; want the app's 500 (no token)", status)
	}
	id, _ := IdentityFrom(rg.seen.Load().Context())
	if _, err := id.Refresh(t.Context(), nil); !errors.Is(err, authorizer.ErrClosed) {
		t.Errorf("refresh after Close: %v; want ErrClosed", err)
	}
}

// The app calls an API as the user through base.NewClient(id).
func TestIdentityThroughBaseClient(t *testing.T) {
	rg := newRig(t, nil)
	rg.signIn()
	id, _ := IdentityFrom(rg.seen.Load().Context())
	want, _ := id.Authorize(t.Context())
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+want.AccessToken {
			t.Errorf("API got Authorization %q", data.Fingerprint(got))
		}
	}))
	defer api.Close()
	client := base.NewClient(id)
	defer client.CloseIdleConnections()
	resp, err := client.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
