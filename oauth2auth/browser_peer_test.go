package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callbackOf drives the sign-in at authURL up to the redirect to the
// loopback server and returns that redirect's URL. It runs outside the
// test goroutine, so it reports failures as errors.
func callbackOf(ctx context.Context, t *testing.T, authURL string) (*url.URL, error) {
	u := newPeerUser(t, "mallory")
	u.stopAtCallback = true
	p, err := u.authorize(ctx, authURL)
	if err != nil {
		return nil, err
	}
	if p.status != http.StatusSeeOther {
		return nil, fmt.Errorf("status %d; want a redirect to the callback", p.status)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err == nil && loc.Path != callbackPath {
		err = fmt.Errorf("redirect to %s; want the callback", loc.Path)
	}
	return loc, err
}

// browserCtx is the context of a simulated browser: its own, not the
// sign-in's.
func browserCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

// getPage fetches target with a plain client.
func getPage(ctx context.Context, t *testing.T, target string) (*page, error) {
	return get(ctx, target)
}

func TestPeerForgedStateRefused(t *testing.T) {
	env := peerEnv(t, "openid")
	forged := make(chan *page, 1)
	errs := make(chan error, 2)
	opener := func(_ context.Context, authURL string) error {
		go func() {
			ctx, cancel := browserCtx()
			defer cancel()
			cb, err := callbackOf(ctx, t, authURL)
			if err != nil {
				errs <- err
				return
			}
			// The real code, but a forged state: refused, and the sign-in
			// goes on waiting.
			bad := *cb
			q := bad.Query()
			q.Set("state", "forged-"+q.Get("state"))
			bad.RawQuery = q.Encode()
			p, err := getPage(ctx, t, bad.String())
			errs <- err
			forged <- p
			_, err = getPage(ctx, t, cb.String()) // then the genuine redirect
			errs <- err
		}()
		return nil
	}
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: nativeClient}, env, WithBrowserOpener(opener))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	require.NoError(t, <-errs)
	p := <-forged
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, p.body, "wrong state")
	require.NoError(t, <-errs)
}

func TestPeerForgedStateOnlyTimesOut(t *testing.T) {
	env := peerEnv(t, "openid")
	done := make(chan error, 1)
	opener := func(_ context.Context, authURL string) error {
		go func() {
			ctx, cancel := browserCtx()
			defer cancel()
			cb, err := callbackOf(ctx, t, authURL)
			if err == nil {
				q := cb.Query()
				q.Set("state", "attacker-state")
				cb.RawQuery = q.Encode()
				_, err = getPage(ctx, t, cb.String())
			}
			done <- err
		}()
		return nil
	}
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithBrowserOpener(opener), WithSignInTimeout(2*time.Second))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no code was accepted")
	require.NoError(t, <-done)
}

func TestPeerWrongVerifierRefused(t *testing.T) {
	env := peerEnv(t, "openid")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: nativeClient}, env)
	require.NoError(t, err)
	ep, err := a.endpoints(ctx)
	require.NoError(t, err)
	proof := newPKCE()
	redirect := "http://127.0.0.1:53122/callback"
	cb, err := callbackOf(ctx, t, a.authCodeURL(ep, redirect, "st", "nn", proof, nil))
	require.NoError(t, err)
	assert.Equal(t, env.Issuer, cb.Query().Get("iss"), "RFC 9207 iss parameter")

	_, err = tokenwire.Do(ctx, tokenwire.Request{URL: ep.TokenURL, Client: data.ClientInfo{ClientID: nativeClient},
		Auth: tokenwire.AuthNone, Form: url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
			"code_verifier": {newPKCE().verifier}, "redirect_uri": {redirect}}})
	var refused *authorizer.InvalidCredentialsError
	require.True(t, errors.As(err, &refused), "got %v", err)
	assert.Equal(t, "invalid_grant", refused.Code)
	assert.NotContains(t, err.Error(), proof.verifier)
}
