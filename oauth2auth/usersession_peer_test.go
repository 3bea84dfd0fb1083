package oauth2auth

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

// peerUser plays the user at the real oidc-provider's dev login pages over
// plain HTTP: the SDK's one such helper, [peertest.User] (see
// scripts/peers/README.md), with the loopback callback as an optional stop.
type peerUser struct {
	*peertest.User
	// stopAtCallback, when set, makes the client stop at the redirect to
	// the loopback callback instead of following it.
	stopAtCallback bool
}

func newPeerUser(_ testing.TB, login string) *peerUser {
	u := &peerUser{User: peertest.NewUser(login)}
	u.StopAt = func(next *url.URL) bool { return u.stopAtCallback && next.Path == callbackPath }
	return u
}

// page is a response with its body read.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func fromPeer(p *peertest.Page) *page {
	return &page{url: p.URL, status: p.Status, header: p.Header, body: p.Body}
}

func (u *peerUser) approveDevice(ctx context.Context, issuer, userCode string) error {
	return u.ApproveDevice(ctx, issuer, userCode)
}

// authorize opens authURL, signs in and consents, and returns the last
// page: the loopback landing page, or (stopAtCallback) the redirect to it.
func (u *peerUser) authorize(ctx context.Context, authURL string) (*page, error) {
	p, err := u.SignIn(ctx, authURL)
	if err != nil {
		return nil, err
	}
	return fromPeer(p), nil
}

// get fetches target with a plain client.
func get(ctx context.Context, target string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
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
