package oauth2auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// captureLogs returns a WithLogger option logging at debug level into the
// returned buffer.
func captureLogs() (Option, *syncBuffer) {
	var buf syncBuffer
	return WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))), &buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRefreshKeepsRotatedOrOldRefreshToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rotate bool
		want   string
	}{
		{name: "rotated", rotate: true, want: "REFRESH-SECRET-2"},
		{name: "not rotated: old one kept", rotate: false, want: "REFRESH-SECRET-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.rotate = tc.rotate
			cache := base.NewMemoryCache()
			a := newTestDevice(t, f, new([]DevicePrompt), WithTokenCache(cache))
			ctx := context.Background()
			tok, err := a.Authorize(ctx)
			require.NoError(t, err)
			next, err := a.Refresh(ctx, tok)
			require.NoError(t, err)
			assert.Equal(t, "ACCESS-SECRET-2", next.AccessToken)
			assert.Equal(t, tc.want, next.RefreshToken)
			stored, _ := cache.Load(ctx, a.key)
			assert.Equal(t, tc.want, stored.RefreshToken, "stored")
			assert.Equal(t, "REFRESH-SECRET-1", f.lastRequest().Get("refresh_token"))
			assert.Equal(t, "cli", f.lastRequest().Get("client_id"))
		})
	}
}

func TestRefreshUsesWhatAnotherProcessCached(t *testing.T) {
	f := newFakeIdP(t)
	cache := base.NewMemoryCache()
	a := newTestDevice(t, f, new([]DevicePrompt), WithTokenCache(cache))
	ctx := context.Background()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)

	// Another process refreshed meanwhile and cached a newer token.
	newer := &oauth2.Token{AccessToken: "NEWER", RefreshToken: "REFRESH-NEWER", Expiry: time.Now().Add(time.Hour)}
	require.NoError(t, cache.Store(ctx, a.key, newer))
	got, err := a.Refresh(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "NEWER", got.AccessToken, "no token request needed")

	// When that one has expired too, its (newest) refresh token is used.
	expired := *newer
	expired.Expiry = time.Now().Add(-time.Minute)
	require.NoError(t, cache.Store(ctx, a.key, &expired))
	_, err = a.Refresh(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "REFRESH-NEWER", f.lastRequest().Get("refresh_token"))
}

func TestAuthorizeRefreshesExpiredCachedToken(t *testing.T) {
	f := newFakeIdP(t)
	cache := base.NewMemoryCache()
	var prompts []DevicePrompt
	a := newTestDevice(t, f, &prompts, WithTokenCache(cache))
	ctx := context.Background()
	require.NoError(t, cache.Store(ctx, a.key, &oauth2.Token{AccessToken: "OLD", RefreshToken: "RT-OLD",
		Expiry: time.Now().Add(-time.Minute)}))
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.Empty(t, prompts, "refreshed, not prompted")
	assert.Equal(t, "RT-OLD", f.lastRequest().Get("refresh_token"))
	assert.Equal(t, "ACCESS-SECRET-1", tok.AccessToken)
}

func TestRefusedRefreshToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reauth  bool
		prompts int
	}{
		{name: "typed error by default", prompts: 1},
		{name: "signs in again when allowed", reauth: true, prompts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			var prompts []DevicePrompt
			a := newTestDevice(t, f, &prompts, WithInteractiveReauth(tc.reauth))
			ctx := context.Background()
			tok, err := a.Authorize(ctx)
			require.NoError(t, err)
			f.mu.Lock()
			f.refreshError = "invalid_grant"
			f.mu.Unlock()
			_, err = a.Refresh(ctx, tok)
			assert.Len(t, prompts, tc.prompts)
			if tc.reauth {
				require.NoError(t, err)
				return
			}
			var refused *authorizer.InvalidCredentialsError
			require.ErrorAs(t, err, &refused)
			assert.Equal(t, "invalid_grant", refused.Code)
			_, err = a.Authorize(ctx)
			require.ErrorAs(t, err, &refused, "base.Transport's fallback to Authorize does not prompt")
			assert.Len(t, prompts, 1)

			// An explicit SignIn (a tool's "login" command) still works.
			_, err = a.SignIn(ctx)
			require.NoError(t, err)
			assert.Len(t, prompts, 2)
		})
	}
}

func TestNoRefreshTokenNeedsPermissionToPrompt(t *testing.T) {
	f := newFakeIdP(t)
	var prompts []DevicePrompt
	a := newTestDevice(t, f, &prompts)
	_, err := a.Refresh(context.Background(), &oauth2.Token{AccessToken: "x"})
	var refused *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "interaction_required", refused.Code)
	assert.Empty(t, prompts)
}

func TestFileCacheSharedByGoroutinesSignsInOnce(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 2
	cache, err := filecache.New(filecache.WithDir(filepath.Join(t.TempDir(), "cache")), filecache.WithLockRetry(time.Millisecond))
	require.NoError(t, err)
	var (
		mu      sync.Mutex
		prompts int
		wg      sync.WaitGroup
	)
	prompt := func(context.Context, DevicePrompt) error { mu.Lock(); prompts++; mu.Unlock(); return nil }
	tokens := make([]string, 5)
	for i := range tokens {
		wg.Go(func() {
			// One authorizer per goroutine, as separate processes would have.
			a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(), WithTokenCache(cache),
				WithDevicePrompt(prompt), withPollInterval(5*time.Millisecond))
			if !assert.NoError(t, err) {
				return
			}
			tok, err := a.Authorize(context.Background())
			if assert.NoError(t, err) {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, prompts)
	for _, tok := range tokens {
		assert.Equal(t, "ACCESS-SECRET-1", tok)
	}
}

func TestSignOut(t *testing.T) {
	f := newFakeIdP(t)
	cache := base.NewMemoryCache()
	a := newTestDevice(t, f, new([]DevicePrompt), WithTokenCache(cache))
	ctx := context.Background()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	require.NoError(t, a.SignOut(ctx))
	got, _ := cache.Load(ctx, a.key)
	assert.Nil(t, got, "forgotten")
	f.mu.Lock()
	require.Len(t, f.revoked, 2)
	assert.Equal(t, tok.RefreshToken, f.revoked[0].Get("token"))
	assert.Equal(t, "refresh_token", f.revoked[0].Get("token_type_hint"))
	assert.Equal(t, tok.AccessToken, f.revoked[1].Get("token"))
	assert.Equal(t, "cli", f.revoked[1].Get("client_id"))
	f.mu.Unlock()
	require.NoError(t, a.SignOut(ctx), "signing out twice is fine")
}

func TestSignOutErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		code    string
		wantErr bool
		typed   any
	}{
		{name: "JWT access token cannot be revoked", status: 400, code: "unsupported_token_type"},
		{name: "server failure", status: 503, code: "temporarily_unavailable", wantErr: true, typed: new(*authorizer.AuthorizationError)},
		{name: "client refused", status: 401, code: "invalid_client", wantErr: true, typed: new(*authorizer.InvalidClientError)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			a := newTestDevice(t, f, new([]DevicePrompt))
			ctx := context.Background()
			tok, err := a.Authorize(ctx)
			require.NoError(t, err)
			f.mu.Lock()
			f.revokeStatus, f.revokeErrCode = tc.status, tc.code
			f.mu.Unlock()
			err = a.revoke(ctx, f.srv.URL+"/revoke", tok.AccessToken, "access_token")
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.As(err, tc.typed), "%T", err)
			assert.NotContains(t, err.Error(), tok.AccessToken)
		})
	}
}

func TestNoSecretsInLogsOrErrors(t *testing.T) {
	withLogs, logs := captureLogs()
	f := newFakeIdP(t)
	pages := make(chan *page, 1)
	a := newTestBrowser(t, f, pages, f.env("openid", "offline_access"), withLogs)
	ctx := context.Background()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	<-pages
	next, err := a.Refresh(ctx, tok)
	require.NoError(t, err)
	f.mu.Lock()
	f.refreshError = "invalid_grant"
	f.mu.Unlock()
	_, refreshErr := a.Refresh(ctx, next)
	require.Error(t, refreshErr)
	require.NoError(t, a.SignOut(ctx))

	f.mu.Lock()
	q := f.authQueries[0]
	secrets := []string{"SECRET", q.Get("state"), q.Get("nonce"), q.Get("code_challenge"),
		f.requests[0].Get("code_verifier"), tok.Extra("id_token").(string)}
	f.mu.Unlock()
	out := logs.String()
	assert.Contains(t, out, "signed in", "logs were captured")
	assert.Contains(t, out, data.Fingerprint(tok.AccessToken), "tokens appear as fingerprints")
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, out, s)
		assert.NotContains(t, refreshErr.Error(), s)
	}
	assert.True(t, strings.HasPrefix(refreshErr.Error(), "authorizer: ") || strings.HasPrefix(refreshErr.Error(), "oauth2auth: "))
}

func TestInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		info data.ClientInfo
		env  Environment
	}{
		{name: "no client id", env: Environment{Issuer: "https://idp"}},
		{name: "no issuer or token URL", info: data.ClientInfo{ClientID: "c"}},
		{name: "openid without issuer", info: data.ClientInfo{ClientID: "c"},
			env: Environment{TokenURL: "https://idp/token", Scopes: []string{"openid"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDeviceAuthorizer(tc.info, tc.env)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.True(t, strings.HasPrefix(err.Error(), "oauth2auth: "), err.Error())
			_, err = NewBrowserAuthorizer(tc.info, tc.env)
			require.ErrorAs(t, err, &ce)
		})
	}
}

func TestMissingEndpoint(t *testing.T) {
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "c"}, Environment{TokenURL: "http://127.0.0.1:1/token"})
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "DeviceAuthURL")
}

func TestExtraScopesAndResources(t *testing.T) {
	f := newFakeIdP(t)
	env := f.env("openid", "email")
	env.Resources = []string{"urn:a"}
	a := newTestDevice(t, f, new([]DevicePrompt), WithExtraScopes("email", "api:read"), WithExtraResources("urn:b"))
	a2, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, env, WithExtraScopes("email", "api:read"),
		WithExtraResources("urn:b"), WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }),
		withPollInterval(10*time.Millisecond))
	require.NoError(t, err)
	_, err = a2.Authorize(context.Background())
	require.NoError(t, err)
	f.mu.Lock()
	form := f.deviceForms[0]
	f.mu.Unlock()
	assert.Equal(t, "openid email api:read", form.Get("scope"), "no duplicates, Environment's first")
	assert.Equal(t, []string{"urn:a", "urn:b"}, form["resource"])
	assert.NotEqual(t, a.key, a2.key, "different requests are cached apart")
}

func TestConfidentialClientAtDeviceEndpoint(t *testing.T) {
	var gotUser, gotPass, gotFormID string
	f := newFakeIdP(t)
	wrapped := f.srv.Config.Handler
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/device/auth" {
			gotUser, gotPass, _ = r.BasicAuth()
			gotFormID = r.PostFormValue("client_id")
		}
		wrapped.ServeHTTP(w, r)
	})
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "c:1", ClientSecret: "s&2"}, f.env(),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(10*time.Millisecond))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "c%3A1", gotUser, "RFC 6749 §2.3.1 encoding")
	assert.Equal(t, "s%262", gotPass)
	assert.Empty(t, gotFormID, "credentials sent one way only")
}

func TestPlainHTTPRefusedForRemoteHosts(t *testing.T) {
	_, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: "c"}, Environment{Issuer: "http://idp.example.com"})
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	_, err = NewBrowserAuthorizer(data.ClientInfo{ClientID: "c"}, Environment{Issuer: "http://idp.example.com"}, InsecureAllowHTTP())
	require.NoError(t, err)
}

func TestExpiredUsesClock(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "c"}, Environment{TokenURL: "https://idp/token"},
		WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	assert.False(t, a.Expired(&oauth2.Token{AccessToken: "x", Expiry: now.Add(time.Hour)}))
	assert.True(t, a.Expired(&oauth2.Token{AccessToken: "x", Expiry: now.Add(time.Second)}))
}

func TestConcurrentRefreshSharingFileCacheRefreshesOnce(t *testing.T) {
	f := newFakeIdP(t)
	cache, err := filecache.New(filecache.WithDir(filepath.Join(t.TempDir(), "cache")), filecache.WithLockRetry(time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	expired := &oauth2.Token{AccessToken: "OLD", RefreshToken: "RT-1", Expiry: time.Now().Add(-time.Minute)}
	var wg sync.WaitGroup
	got := make([]string, 6)
	for i := range got {
		// Separate authorizers, as separate processes of one tool: with
		// rotating refresh tokens and reuse detection, two refreshes with
		// RT-1 would end the session.
		a := newTestDevice(t, f, new([]DevicePrompt), WithTokenCache(cache))
		if i == 0 {
			require.NoError(t, cache.Store(ctx, a.key, expired))
		}
		wg.Go(func() {
			tok, err := a.Refresh(ctx, expired)
			if assert.NoError(t, err) {
				got[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	refreshes := 0
	for _, r := range f.requests {
		if r.Get("grant_type") == "refresh_token" {
			refreshes++
		}
	}
	f.mu.Unlock()
	assert.Equal(t, 1, refreshes, "one refresh for all")
	for _, tok := range got {
		assert.Equal(t, "ACCESS-SECRET-1", tok)
	}
}

func TestSignInsDoNotLeakGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFakeIdP(t)
	client := WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second})
	pages := make(chan *page, 1)
	b := newTestBrowser(t, f, pages, f.env("openid", "offline_access"), client)
	ctx := context.Background()
	tok, err := b.Authorize(ctx)
	require.NoError(t, err)
	<-pages
	_, err = b.Refresh(ctx, tok)
	require.NoError(t, err)
	require.NoError(t, b.SignOut(ctx))

	d := newTestDevice(t, f, new([]DevicePrompt), client)
	_, err = d.Authorize(ctx)
	require.NoError(t, err)
	f.srv.Close()
}

func TestConcurrentAuthorizeSignsInOnce(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 2
	var (
		mu      sync.Mutex
		prompts int
		wg      sync.WaitGroup
	)
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(), // in-memory cache
		WithDevicePrompt(func(context.Context, DevicePrompt) error { mu.Lock(); prompts++; mu.Unlock(); return nil }),
		withPollInterval(5*time.Millisecond))
	require.NoError(t, err)
	for range 20 {
		wg.Go(func() {
			tok, err := a.Authorize(context.Background())
			if assert.NoError(t, err) {
				assert.Equal(t, "ACCESS-SECRET-1", tok.AccessToken)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, prompts)
}

func TestWaitingForAnotherSignInHonoursContext(t *testing.T) {
	f := newFakeIdP(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { close(entered); <-release; return nil }),
		withPollInterval(5*time.Millisecond))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := a.Authorize(context.Background()); done <- err }()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Authorize(ctx)
	require.ErrorIs(t, err, context.Canceled)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	close(release)
	require.NoError(t, <-done)
}
