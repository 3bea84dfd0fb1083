package oauth2auth

import (
	"context"
	"errors"
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
// loopback server and returns that redirect's URL.
func callbackOf(ctx context.Context, t *testing.T, authURL string) *url.URL {
	u := newPeerUser(t, "mallory")
	u.stopAtCallback = true
	p, err := u.authorize(ctx, authURL)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, p.status, "redirect to the callback expected")
	loc, err := url.Parse(p.header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, callbackPath, loc.Path)
	return loc
}

// getPage fetches target with a plain client.
func getPage(ctx context.Context, t *testing.T, target string) *page {
	p, err := newPeerUser(t, "x").do(ctx, http.MethodGet, target, nil)
	require.NoError(t, err)
	return p
}

func TestPeerForgedStateRefused(t *testing.T) {
	env := peerEnv(t, "openid")
	forged := make(chan *page, 1)
	opener := func(ctx context.Context, authURL string) error {
		go func() {
			cb := callbackOf(ctx, t, authURL)
			// The real code, but a forged state: refused, and the sign-in
			// goes on waiting.
			bad := *cb
			q := bad.Query()
			q.Set("state", "forged-"+q.Get("state"))
			bad.RawQuery = q.Encode()
			forged <- getPage(ctx, t, bad.String())
			getPage(ctx, t, cb.String()) // then the genuine redirect
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
	p := <-forged
	assert.Equal(t, http.StatusBadRequest, p.status)
	assert.Contains(t, p.body, "wrong state")
}

func TestPeerForgedStateOnlyTimesOut(t *testing.T) {
	env := peerEnv(t, "openid")
	opener := func(ctx context.Context, authURL string) error {
		go func() {
			cb := callbackOf(ctx, t, authURL)
			q := cb.Query()
			q.Set("state", "attacker-state")
			cb.RawQuery = q.Encode()
			getPage(ctx, t, cb.String())
		}()
		return nil
	}
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithBrowserOpener(opener), WithSignInTimeout(2*time.Second))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no code was accepted")
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
	cb := callbackOf(ctx, t, a.authCodeURL(ep, redirect, "st", "nn", proof))
	assert.Equal(t, env.Issuer, cb.Query().Get("iss"), "RFC 9207 iss parameter")

	_, err = tokenwire.Do(ctx, tokenwire.Request{URL: ep.TokenURL, Client: data.ClientInfo{ClientID: nativeClient},
		Auth: tokenwire.AuthNone, Form: url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
			"code_verifier": {newPKCE().verifier}, "redirect_uri": {redirect}}})
	var refused *authorizer.InvalidCredentialsError
	require.True(t, errors.As(err, &refused), "got %v", err)
	assert.Equal(t, "invalid_grant", refused.Code)
	assert.NotContains(t, err.Error(), proof.verifier)
}
