package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

// peerApp is an app behind the middleware, on the origin the oidc-provider
// peer's sdk-web client is registered for (the peer's port + 1000).
type peerApp struct {
	t      *testing.T
	url    string
	login  *Login
	logs   *logBuffer
	issuer string
}

func startPeerApp(t *testing.T, issuer string, edit func(*Config)) *peerApp {
	u, _ := url.Parse(issuer)
	port, _ := strconv.Atoi(u.Port())
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1000))
	a := &peerApp{t: t, url: "http://" + addr, logs: &logBuffer{}, issuer: issuer}
	cfg := Config{Issuer: issuer, Client: data.ClientInfo{ClientID: "sdk-web", ClientSecret: "sdk-web-secret"},
		ExternalURL: a.url, ProtectedPaths: []string{"/private/"}, SessionSecret: "peer test session secret, 32 bytes or more",
		Logger: slog.New(slog.NewTextHandler(a.logs, nil))}
	if edit != nil {
		edit(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.login = l
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the peer's web app port: %v", err)
	}
	srv := &http.Server{Handler: l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		if !ok {
			fmt.Fprint(w, "anonymous")
			return
		}
		tok, err := id.Authorize(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "hello %s %s token %s", id.Subject, id.Email, data.Fingerprint(tok.AccessToken))
	}))}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		l.Close()
		if t.Failed() {
			t.Logf("app log:\n%s", a.logs.String())
		}
	})
	return a
}

type peerPage struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

// peerBrowser plays the user over HTTP with a cookie jar at the peer's dev
// login and consent pages.
type peerBrowser struct {
	t      *testing.T
	client *http.Client
	follow bool
}

func newPeerBrowser(t *testing.T) *peerBrowser {
	jar, _ := cookiejar.New(nil)
	b := &peerBrowser{t: t, follow: true}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	b.client = &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		if !b.follow {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *peerBrowser) do(method, target string, form url.Values, header ...string) *peerPage {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, target, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return &peerPage{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

var (
	formActionRe = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	xsrfValueRe  = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
)

// interact answers the login, consent and logout-confirmation pages.
func (b *peerBrowser) interact(p *peerPage, login string) *peerPage {
	b.t.Helper()
	for range 6 {
		path := p.url.Path
		if p.status != 200 || !(strings.HasPrefix(path, "/interaction/") || strings.HasPrefix(path, "/session/end")) {
			return p
		}
		action := p.url.String()
		if m := formActionRe.FindStringSubmatch(p.body); m != nil {
			ref, _ := url.Parse(m[1])
			action = p.url.ResolveReference(ref).String()
		}
		form := url.Values{"prompt": {"consent"}}
		switch {
		case strings.Contains(p.body, `name="login"`):
			form = url.Values{"prompt": {"login"}, "login": {login}, "password": {"any"}}
		case strings.HasPrefix(path, "/session/end") && strings.Contains(p.body, "xsrf"):
			m := xsrfValueRe.FindStringSubmatch(p.body)
			if m == nil {
				return p // the "signed out" page
			}
			form = url.Values{"xsrf": {m[1]}, "logout": {"yes"}}
		case strings.HasPrefix(path, "/session/end"):
			return p
		}
		p = b.do(http.MethodPost, action, form)
	}
	b.t.Fatal("too many interaction pages")
	return nil
}

func (b *peerBrowser) signIn(app *peerApp, login string) *peerPage {
	b.t.Helper()
	p := b.interact(b.do(http.MethodGet, app.url+"/private/page?from=peer", nil), login)
	if p.status != 200 || !strings.HasPrefix(p.body, "hello "+login+" ") || p.url.RequestURI() != "/private/page?from=peer" {
		b.t.Fatalf("sign-in ended at %s with %d: %.300s", p.url.Redacted(), p.status, p.body)
	}
	return p
}

// status of a GET without following redirects.
func (b *peerBrowser) status(target string) (int, string) {
	b.follow = false
	defer func() { b.follow = true }()
	p := b.do(http.MethodGet, target, nil)
	return p.status, p.body
}

func TestPeerSignInAndBothLogouts(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	app := startPeerApp(t, issuer, nil)

	// RP-initiated logout, with the state checked on return.
	a := newPeerBrowser(t)
	a.signIn(app, "alice")
	a.follow = false
	out := a.do(http.MethodPost, app.url+"/sign-out", url.Values{"rd": {"/after"}}, "Origin", app.url)
	a.follow = true
	loc, _ := url.Parse(out.header.Get("Location"))
	if out.status != http.StatusSeeOther || loc.Query().Get("id_token_hint") == "" || !strings.HasPrefix(loc.String(), issuer+"/session/end") {
		t.Fatalf("sign-out: %d to %s", out.status, loc.Redacted())
	}
	back := a.interact(a.do(http.MethodGet, loc.String(), nil), "alice")
	if back.url.Path != "/after" {
		t.Errorf("after the provider's logout: at %s (%d); want /after", back.url.Redacted(), back.status)
	}
	if status, _ := a.status(app.url + "/private/page"); status != http.StatusFound {
		t.Errorf("after sign-out: %d; want the login redirect", status)
	}

	// Back-channel: the user signs out at the provider itself; the provider
	// posts a logout token to the app, and the browser's next request is
	// signed out.
	b := newPeerBrowser(t)
	b.signIn(app, "bob")
	end := b.interact(b.do(http.MethodGet, issuer+"/session/end", nil), "bob")
	if end.status != 200 {
		t.Fatalf("provider logout: %d", end.status)
	}
	if status, body := b.status(app.url + "/private/page"); status != http.StatusFound {
		t.Errorf("after back-channel logout: %d %.100s; want the login redirect", status, body)
	}
	if !strings.Contains(app.logs.String(), "back-channel logout") {
		t.Errorf("no back-channel logout reached the app:\n%s", app.logs.String())
	}
}

func TestPeerSessionSurvivesAccessTokenExpiry(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER") // 5-second access tokens
	app := startPeerApp(t, issuer, nil)
	b := newPeerBrowser(t)
	first := b.signIn(app, "carol").body
	// Poll until the access token has been refreshed (it lives 5 s); a
	// busy machine only makes this take longer, never fail.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		status, body := b.status(app.url + "/private/page")
		if status != 200 {
			t.Fatalf("during refresh: %d %.200s", status, body)
		}
		if body != first {
			if !strings.HasPrefix(body, "hello carol ") {
				t.Fatalf("after refresh: %q", body)
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatal("the access token was never refreshed")
}

func TestPeerWithSessionStore(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	store := NewMemoryStore(nil)
	app := startPeerApp(t, issuer, func(c *Config) { c.SessionStore = store })
	b := newPeerBrowser(t)
	b.signIn(app, "dave")
	if store.Len() != 1 {
		t.Fatalf("store holds %d; want 1", store.Len())
	}
	b.interact(b.do(http.MethodGet, issuer+"/session/end", nil), "dave")
	if store.Len() != 0 {
		t.Errorf("after back-channel logout the store holds %d; want 0", store.Len())
	}
	if status, _ := b.status(app.url + "/private/page"); status != http.StatusFound {
		t.Errorf("after back-channel logout: %d; want the login redirect", status)
	}
}
