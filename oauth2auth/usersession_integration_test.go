package oauth2auth

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const nativeClient = "sdk-native"

func peerEnv(t *testing.T, scopes ...string) Environment {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	return Environment{Issuer: issuer, Scopes: scopes}
}

// devicePrompter approves every device sign-in as login, over HTTP, and
// counts the prompts.
func devicePrompter(t *testing.T, issuer, login string, prompts *int) DevicePrompter {
	return func(ctx context.Context, p DevicePrompt) error {
		*prompts++
		assert.NotEmpty(t, p.VerificationURIComplete)
		return newPeerUser(t, login).approveDevice(ctx, issuer, p.UserCode)
	}
}

func TestPeerDeviceFlow(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access", "api:read")
	env.Resources = []string{"urn:sdk-test:api"}
	var prompts int
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithDevicePrompt(devicePrompter(t, env.Issuer, "alice", &prompts)), withPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, prompts)
	assert.NotEmpty(t, tok.AccessToken)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.NotEmpty(t, tok.Extra("id_token"))
	assert.False(t, a.Expired(tok))

	again, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "cached: no second prompt")
	assert.Equal(t, 1, prompts)

	next, err := a.Refresh(ctx, tok)
	require.NoError(t, err)
	assert.NotEqual(t, tok.RefreshToken, next.RefreshToken, "rotated")
	require.NoError(t, a.SignOut(ctx))
}

func TestPeerBrowserFlow(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access", "email")
	pages := make(chan *page, 1)
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithBrowserOpener(newPeerUser(t, "bob").opener(pages)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.NotEmpty(t, tok.RefreshToken, "prompt=consent keeps offline_access")
	assert.NotEmpty(t, tok.Extra("id_token"))
	p := <-pages
	assert.Equal(t, 200, p.status)
	assert.Contains(t, p.body, "You are signed in")
}

func TestPeerRotatedRefreshTokenPersisted(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access")
	dir := filepath.Join(t.TempDir(), "cache")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newRun := func(prompts *int) (*DeviceAuthorizer, *filecache.Cache) {
		cache, err := filecache.New(filecache.WithDir(dir), filecache.WithEncryptionKey(make([]byte, 32)))
		require.NoError(t, err)
		a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env, WithTokenCache(cache),
			WithDevicePrompt(devicePrompter(t, env.Issuer, "dave", prompts)), withPollInterval(200*time.Millisecond))
		require.NoError(t, err)
		return a, cache
	}

	var prompts int
	first, cache := newRun(&prompts)
	tok, err := first.Authorize(ctx)
	require.NoError(t, err)
	rotated, err := first.Refresh(ctx, tok)
	require.NoError(t, err)
	require.NotEqual(t, tok.RefreshToken, rotated.RefreshToken)
	stored, err := cache.Load(ctx, first.key)
	require.NoError(t, err)
	require.Equal(t, rotated.RefreshToken, stored.RefreshToken, "the rotated refresh token is persisted")
	require.Equal(t, rotated.Extra("id_token"), stored.Extra("id_token"), "and the ID token")

	// Age the cached access token so that the next run must refresh. Had
	// it used the first refresh token, the provider would refuse it and
	// revoke the whole grant.
	expired := *stored
	expired.Expiry = time.Now().Add(-time.Minute)
	require.NoError(t, cache.Store(ctx, first.key, &expired))

	second, cache2 := newRun(&prompts)
	next, err := second.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, prompts, "the next run refreshed without prompting")
	assert.NotEqual(t, rotated.AccessToken, next.AccessToken)
	assert.NotEqual(t, rotated.RefreshToken, next.RefreshToken, "rotated again")
	stored, err = cache2.Load(ctx, second.key)
	require.NoError(t, err)
	assert.Equal(t, next.RefreshToken, stored.RefreshToken)

	// Signing out revokes the grant: the refresh token stops working.
	require.NoError(t, second.SignOut(ctx))
	stored, err = cache2.Load(ctx, second.key)
	require.NoError(t, err)
	assert.Nil(t, stored, "forgotten locally")
	env2, err := second.endpoints(ctx)
	require.NoError(t, err)
	_, err = second.tokenRequest(ctx, env2, refreshForm(next.RefreshToken))
	var refused *authorizer.InvalidCredentialsError
	assert.ErrorAs(t, err, &refused, "revoked at the provider")
}

func TestPeerRefusedRefreshNeedsPermissionToPrompt(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name    string
		reauth  bool
		prompts int
	}{
		{name: "not allowed: typed error", reauth: false, prompts: 1},
		{name: "allowed: signs in again", reauth: true, prompts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prompts int
			a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
				WithDevicePrompt(devicePrompter(t, env.Issuer, "erin", &prompts)),
				withPollInterval(200*time.Millisecond), WithInteractiveReauth(tc.reauth))
			require.NoError(t, err)
			tok, err := a.Authorize(ctx)
			require.NoError(t, err)
			require.NoError(t, a.revokeAll(ctx, tok)) // the session ends at the provider
			next, err := a.Refresh(ctx, tok)
			assert.Equal(t, tc.prompts, prompts)
			if tc.reauth {
				require.NoError(t, err)
				assert.NotEqual(t, tok.AccessToken, next.AccessToken)
				return
			}
			var refused *authorizer.InvalidCredentialsError
			require.ErrorAs(t, err, &refused)
			_, err = a.Authorize(ctx) // what base.Transport does next
			require.ErrorAs(t, err, &refused, "Authorize does not prompt either")
			assert.Equal(t, 1, prompts)
		})
	}
}

// With 5-second access tokens, the next run finds the cached token expired
// and refreshes it with the persisted refresh token, without a prompt.
func TestPeerNextRunRefreshesExpiredToken(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	env := Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access"}}
	dir := filepath.Join(t.TempDir(), "cache")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var prompts int
	run := func() *oauth2.Token {
		cache, err := filecache.New(filecache.WithDir(dir))
		require.NoError(t, err)
		a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env, WithTokenCache(cache),
			WithDevicePrompt(devicePrompter(t, issuer, "frank", &prompts)), withPollInterval(200*time.Millisecond))
		require.NoError(t, err)
		tok, err := a.Authorize(ctx)
		require.NoError(t, err)
		return tok
	}
	first := run()
	assert.Equal(t, int64(5), first.ExpiresIn)
	time.Sleep(time.Until(first.Expiry.Add(-data.EffectiveGap(5 * time.Second))))
	second := run()
	assert.Equal(t, 1, prompts, "refreshed, not prompted")
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "rotated")
}

// base.Transport keeps a user session going: it signs in once and refreshes
// through the authorizer when the 5-second token runs out.
func TestPeerTransportRefreshesUserSession(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	var prompts int
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient},
		Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access", "email"}},
		WithDevicePrompt(devicePrompter(t, issuer, "grace", &prompts)), withPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	tr := base.NewTransport(a)
	defer tr.Close()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	var seen []string
	for i := range 2 {
		if i > 0 {
			time.Sleep(4 * time.Second) // past the 5 s token's usable life
		}
		resp, err := client.Get(issuer + "/me")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Contains(t, string(body), `"sub":"grace"`)
		tok, err := tr.Token(context.Background())
		require.NoError(t, err)
		seen = append(seen, tok.AccessToken)
	}
	assert.Equal(t, 1, prompts)
	assert.NotEqual(t, seen[0], seen[1], "refreshed")
}
