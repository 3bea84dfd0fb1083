package e2e

import (
	"context"
	"html/template"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// landingText is what the custom landing page says; the test reads it back
// from the browser.
const landingText = "E2E: signed in, you may close this tab"

var landing = template.Must(template.New("l").Parse(
	`<!doctype html><title>done</title><h1 id="result">{{if .OK}}` + landingText + `{{else}}failed: {{.Error}}{{end}}</h1>`))

// chromiumOptions keep the browser on loopback: no proxy-able traffic, no
// name resolution except 127.0.0.1, no background services.
func chromiumOptions(path, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
}

// signIn is what the user does in the browser: sign in at the dev login
// page, consent, and land on the loopback page, whose text it returns.
func signIn(ctx context.Context, authURL, login string) (string, error) {
	err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "any password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`input[name=prompt][value=consent]`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
	)
	if err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#result`)))
}

// startChromium starts a headless Chromium for the test and returns a
// chromedp context for its steps, bounded to 45 s. The browser lives as
// long as the first Run's context (chromedp's rule), so that one has no
// timeout; it is closed when the test ends.
func startChromium(t *testing.T) context.Context {
	chromium := peertest.Env(t, "AUTHORIZER_CHROMIUM")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(chromium, t.TempDir())...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(browserCtx), "start chromium")
	stepsCtx, cancelSteps := context.WithTimeout(browserCtx, 45*time.Second)
	t.Cleanup(cancelSteps)
	return stepsCtx
}

func TestBrowserSignInWithChromium(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	stepsCtx := startChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The opener drives the browser in the background, as a real browser
	// runs beside the tool; the landing page's text comes back on shown.
	shown := make(chan string, 1)
	driveErr := make(chan error, 1)
	opener := func(_ context.Context, authURL string) error {
		go func() {
			text, err := signIn(stepsCtx, authURL, "alice")
			driveErr <- err
			shown <- text
		}()
		return nil
	}

	cache, err := filecache.New(filecache.WithDir(filepath.Join(t.TempDir(), "cache")))
	require.NoError(t, err)
	a, err := oauth2auth.NewBrowserAuthorizer(data.ClientInfo{ClientID: "sdk-native"},
		oauth2auth.Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access", "email"}},
		oauth2auth.WithBrowserOpener(opener), oauth2auth.WithLandingPage(landing),
		oauth2auth.WithTokenCache(cache), oauth2auth.WithSignInTimeout(45*time.Second))
	require.NoError(t, err)

	start := time.Now()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	require.NoError(t, <-driveErr)
	assert.Equal(t, landingText, <-shown, "the landing page was shown")
	t.Logf("signed in through Chromium in %v (token %s)", time.Since(start).Round(time.Millisecond), data.Fingerprint(tok.AccessToken))
	assert.NotEmpty(t, tok.RefreshToken, "offline_access granted (prompt=consent)")
	assert.NotEmpty(t, tok.Extra("id_token"), "ID token verified")

	// The next run of the tool finds the token in the file cache.
	again, err := oauth2auth.NewBrowserAuthorizer(data.ClientInfo{ClientID: "sdk-native"},
		oauth2auth.Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access", "email"}},
		oauth2auth.WithTokenCache(cache), oauth2auth.WithBrowserOpener(func(context.Context, string) error {
			t.Error("the browser was opened although a valid token is cached")
			return nil
		}))
	require.NoError(t, err)
	cached, err := again.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, cached.AccessToken)
}

// The user cancels at the login page: the provider redirects with
// access_denied, the landing page says so, and Authorize returns the typed
// error.
func TestBrowserSignInCancelledWithChromium(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	stepsCtx := startChromium(t)
	shown := make(chan string, 1)
	opener := func(_ context.Context, authURL string) error {
		go func() {
			err := chromedp.Do(stepsCtx,
				chromedp.Navigate(authURL),
				chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
				chromedp.Click(chromedp.CSS(`a[href$="/abort"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#result`)),
			)
			text := ""
			if err == nil {
				text, err = chromedp.Run(stepsCtx, chromedp.Text(chromedp.CSS(`#result`)))
			}
			if err != nil {
				text = "browser error: " + err.Error()
			}
			shown <- text
		}()
		return nil
	}
	a, err := oauth2auth.NewBrowserAuthorizer(data.ClientInfo{ClientID: "sdk-native"},
		oauth2auth.Environment{Issuer: issuer, Scopes: []string{"openid"}},
		oauth2auth.WithBrowserOpener(opener), oauth2auth.WithLandingPage(landing),
		oauth2auth.WithSignInTimeout(45*time.Second))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "access_denied", ae.Code)
	assert.Contains(t, <-shown, "failed: ")
}
