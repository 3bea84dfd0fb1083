package oauth2auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// peerUser plays the user at the real oidc-provider's dev login pages over
// plain HTTP with a cookie jar (see the peers README): any login name
// works and the password is ignored.
type peerUser struct {
	t      testing.TB
	client *http.Client
	login  string
	// stopAtCallback, when set, makes the client stop at the redirect to
	// the loopback callback instead of following it.
	stopAtCallback bool
}

func newPeerUser(t testing.TB, login string) *peerUser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &peerUser{t: t, login: login}
	u.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if u.stopAtCallback && req.URL.Path == callbackPath {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return u
}

var (
	xsrfRe   = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
	actionRe = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// page is a response with its body read.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func (u *peerUser) do(ctx context.Context, method, target string, form url.Values) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return &page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

// interact answers the login and consent pages until another page comes.
func (u *peerUser) interact(ctx context.Context, p *page) (*page, error) {
	for range 6 {
		if !strings.HasPrefix(p.url.Path, "/interaction/") || p.status != http.StatusOK {
			return p, nil
		}
		action := p.url.String()
		if m := actionRe.FindStringSubmatch(p.body); m != nil {
			ref, err := url.Parse(m[1])
			if err != nil {
				return nil, err
			}
			action = p.url.ResolveReference(ref).String()
		}
		form := url.Values{"prompt": {"consent"}}
		if strings.Contains(p.body, `name="login"`) {
			form = url.Values{"prompt": {"login"}, "login": {u.login}, "password": {"any"}}
		}
		var err error
		if p, err = u.do(ctx, http.MethodPost, action, form); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("too many interaction pages")
}

// approveDevice enters userCode at issuer's /device page and signs in.
func (u *peerUser) approveDevice(ctx context.Context, issuer, userCode string) error {
	p, err := u.do(ctx, http.MethodGet, issuer+"/device", nil)
	if err != nil {
		return err
	}
	m := xsrfRe.FindStringSubmatch(p.body)
	if m == nil {
		return fmt.Errorf("no xsrf on the device page (status %d)", p.status)
	}
	form := url.Values{"xsrf": {m[1]}, "user_code": {userCode}}
	if p, err = u.do(ctx, http.MethodPost, issuer+"/device", form); err != nil {
		return err
	}
	if m = xsrfRe.FindStringSubmatch(p.body); m != nil {
		form.Set("xsrf", m[1])
	}
	form.Set("confirm", "yes")
	if p, err = u.do(ctx, http.MethodPost, issuer+"/device", form); err != nil {
		return err
	}
	if p, err = u.interact(ctx, p); err != nil {
		return err
	}
	if !strings.Contains(p.body, "Sign-in Success") {
		return fmt.Errorf("device sign-in did not succeed: status %d at %s: %.300s", p.status, p.url.Path, p.body)
	}
	return nil
}

// authorize opens authURL, signs in and consents, and returns the last
// page: the loopback landing page, or (stopAtCallback) the redirect to it.
func (u *peerUser) authorize(ctx context.Context, authURL string) (*page, error) {
	p, err := u.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	return u.interact(ctx, p)
}

// opener is a BrowserOpener that plays the user over HTTP; the landing
// page it reached is sent on pages.
func (u *peerUser) opener(pages chan<- *page) BrowserOpener {
	return func(_ context.Context, authURL string) error {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := u.authorize(ctx, authURL)
			if err != nil {
				p = &page{body: "error: " + err.Error()}
			}
			pages <- p
		}()
		return nil
	}
}
