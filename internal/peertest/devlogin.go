package peertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// User plays a person at oidc-provider's dev login pages
// (scripts/peers/oidc-provider, devInteractions) over plain HTTP, so that
// tests, examples and people trying the interactive flows need no
// browser. Any login name is an account there and the password is
// ignored; the login name becomes the token's sub.
//
// A User keeps its cookies (the provider's session), so a second sign-in
// skips the login page, as in a browser. It is not safe for concurrent use.
type User struct {
	// Login is the login name typed into the login page.
	Login string
	// StopAt, when set, is asked before each redirect is followed; when it
	// returns true the redirect is not followed and is the last page (e.g.
	// stop at the loopback callback to read the code from its URL).
	StopAt func(*url.URL) bool

	client *http.Client
}

// NewUser returns a User with an empty cookie jar that signs in as login.
func NewUser(login string) *User {
	jar, _ := cookiejar.New(nil) // never fails without options
	u := &User{Login: login}
	u.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if u.StopAt != nil && u.StopAt(req.URL) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 20 {
			return errors.New("peertest: too many redirects")
		}
		return nil
	}}
	return u
}

// Page is a response of the provider (or of the redirect target) with its
// body read (at most 1 MiB).
type Page struct {
	URL    *url.URL // where the response came from, after redirects
	Status int
	Header http.Header
	Body   string
}

// maxPage caps what a Page holds.
const maxPage = 1 << 20

// maxInteractions bounds the login and consent pages of one sign-in.
const maxInteractions = 6

var (
	xsrfRe   = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
	actionRe = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// SignIn opens authURL (an authorization request: /auth?client_id=…), signs
// in and consents, and returns the last page: the redirect_uri's answer
// (for a loopback callback, the SDK's landing page), or the redirect itself
// when StopAt stopped it. An error page of the provider is returned as a
// Page, not an error.
func (u *User) SignIn(ctx context.Context, authURL string) (*Page, error) {
	p, err := u.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	return u.interact(ctx, p)
}

// ApproveDevice enters userCode (RFC 8628 user_code, e.g. "WDJB-MJHT") at
// issuer's /device page, confirms it, signs in and consents. The device
// then gets its token at its next poll.
func (u *User) ApproveDevice(ctx context.Context, issuer, userCode string) error {
	devicePage := strings.TrimRight(issuer, "/") + "/device"
	p, err := u.do(ctx, http.MethodGet, devicePage, nil)
	if err != nil {
		return err
	}
	m := xsrfRe.FindStringSubmatch(p.Body)
	if m == nil {
		return fmt.Errorf("peertest: no xsrf field on %s (status %d): is %s an oidc-provider peer?", devicePage, p.Status, issuer)
	}
	form := url.Values{"xsrf": {m[1]}, "user_code": {userCode}}
	if p, err = u.do(ctx, http.MethodPost, devicePage, form); err != nil {
		return err
	}
	if m = xsrfRe.FindStringSubmatch(p.Body); m != nil {
		form.Set("xsrf", m[1])
	}
	form.Set("confirm", "yes")
	if p, err = u.do(ctx, http.MethodPost, devicePage, form); err != nil {
		return err
	}
	if p, err = u.interact(ctx, p); err != nil {
		return err
	}
	if !strings.Contains(p.Body, "Sign-in Success") {
		return fmt.Errorf("peertest: device sign-in did not succeed (status %d at %s): %s", p.Status, p.URL.Path, p.Message())
	}
	return nil
}

var (
	headingRe = regexp.MustCompile(`(?s)<h1>(.*?)</h1>`)
	messageRe = regexp.MustCompile(`(?s)<p class="red">(.*?)</p>`)
)

// Message returns what a page of the provider says: its heading and its
// error line ("Sign-in: The code you entered is incorrect. Try again"),
// or the start of the body when it has neither.
func (p *Page) Message() string {
	var parts []string
	for _, re := range []*regexp.Regexp{headingRe, messageRe} {
		if m := re.FindStringSubmatch(p.Body); m != nil {
			parts = append(parts, strings.TrimSpace(m[1]))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%.200q", p.Body)
	}
	return strings.Join(parts, ": ")
}

// interact answers the login and consent pages (/interaction/<uid>) until
// another page comes.
func (u *User) interact(ctx context.Context, p *Page) (*Page, error) {
	for range maxInteractions {
		if !strings.HasPrefix(p.URL.Path, "/interaction/") || p.Status != http.StatusOK {
			return p, nil
		}
		action := p.URL.String()
		if m := actionRe.FindStringSubmatch(p.Body); m != nil {
			ref, err := url.Parse(m[1])
			if err != nil {
				return nil, err
			}
			action = p.URL.ResolveReference(ref).String()
		}
		form := url.Values{"prompt": {"consent"}}
		if strings.Contains(p.Body, `name="login"`) {
			form = url.Values{"prompt": {"login"}, "login": {u.Login}, "password": {"any"}}
		}
		var err error
		if p, err = u.do(ctx, http.MethodPost, action, form); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("peertest: too many login and consent pages")
}

// do sends one request (a form POST when form is set) and reads the page.
func (u *User) do(ctx context.Context, method, target string, form url.Values) (*Page, error) {
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
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, err
}
