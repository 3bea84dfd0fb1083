package oauth2auth

import (
	"bytes"
	"context"
	"html/template"
	"net/url"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestBrowser(t *testing.T, f *fakeIdP, pages chan *page, env Environment, opts ...Option) *BrowserAuthorizer {
	t.Helper()
	opts = append([]Option{WithBrowserOpener(httpOpener(pages)), WithSignInTimeout(5 * time.Second)}, opts...)
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: "cli"}, env, opts...)
	require.NoError(t, err)
	return a
}

func TestBrowserSignIn(t *testing.T) {
	f := newFakeIdP(t)
	pages := make(chan *page, 1)
	env := f.env("openid", "offline_access")
	env.Resources = []string{"urn:api"}
	env.Audience = "aud-x"
	a := newTestBrowser(t, f, pages, env)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ACCESS-SECRET-1", tok.AccessToken)
	assert.Equal(t, "REFRESH-SECRET-1", tok.RefreshToken)
	p := <-pages
	assert.Equal(t, 200, p.status)
	assert.Contains(t, p.body, "You are signed in")

	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.authQueries, 1)
	q := f.authQueries[0]
	for k, want := range map[string]string{"client_id": "cli", "response_type": "code",
		"code_challenge_method": "S256", "scope": "openid offline_access", "prompt": "consent",
		"resource": "urn:api", "audience": "aud-x"} {
		assert.Equal(t, want, q.Get(k), k)
	}
	assert.Len(t, q.Get("state"), 43, "256-bit state")
	assert.Len(t, q.Get("nonce"), 43, "256-bit nonce")
	assert.Len(t, q.Get("code_challenge"), 43)
	redirect, err := url.Parse(q.Get("redirect_uri"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", redirect.Hostname())
	assert.Equal(t, callbackPath, redirect.Path)

	form := f.requests[0]
	assert.Equal(t, "authorization_code", form.Get("grant_type"))
	assert.Equal(t, q.Get("redirect_uri"), form.Get("redirect_uri"))
	assert.Equal(t, q.Get("code_challenge"), s256(form.Get("code_verifier")), "S256 of the verifier")
	assert.Equal(t, "cli", form.Get("client_id"))
}

func TestBrowserNoConsentPromptWithoutOfflineAccess(t *testing.T) {
	f := newFakeIdP(t)
	pages := make(chan *page, 1)
	_, err := newTestBrowser(t, f, pages, f.env("openid")).Authorize(context.Background())
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(t, f.authQueries[0].Get("prompt"))
}

func TestBrowserRefusedByServer(t *testing.T) {
	f := newFakeIdP(t)
	f.authorizeErr = "access_denied"
	pages := make(chan *page, 1)
	_, err := newTestBrowser(t, f, pages, f.env("openid")).Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "access_denied", ae.Code)
	assert.Contains(t, (<-pages).body, "Sign-in failed")
}

func TestBrowserCustomLandingPage(t *testing.T) {
	f := newFakeIdP(t)
	pages := make(chan *page, 1)
	tmpl := template.Must(template.New("x").Parse(`{{if .OK}}Welcome back to mytool{{else}}Oops: {{.Error}}{{end}}`))
	_, err := newTestBrowser(t, f, pages, f.env(), WithLandingPage(tmpl)).Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Welcome back to mytool", (<-pages).body)
}

func TestBrowserTimeout(t *testing.T) {
	f := newFakeIdP(t)
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(),
		WithBrowserOpener(func(context.Context, string) error { return nil }), // the user never comes back
		WithSignInTimeout(50*time.Millisecond))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBrowserOpenerFailurePrintsURL(t *testing.T) {
	f := newFakeIdP(t)
	var out bytes.Buffer
	old := stderr
	stderr = &out
	t.Cleanup(func() { stderr = old })
	a, err := NewBrowserAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(),
		WithBrowserOpener(func(context.Context, string) error { return assert.AnError }),
		WithSignInTimeout(50*time.Millisecond))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.Contains(t, out.String(), f.srv.URL+"/auth?")
	assert.Contains(t, out.String(), "code_challenge_method=S256")
}

func TestIDTokenChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(f *fakeIdP)
		wantErr string
	}{
		{name: "valid"},
		{name: "wrong issuer", set: func(f *fakeIdP) { f.idIssuer = "https://evil" }, wantErr: "ID token is not valid"},
		{name: "wrong audience", set: func(f *fakeIdP) { f.idAudience = "other-client" }, wantErr: "ID token is not valid"},
		{name: "wrong nonce", set: func(f *fakeIdP) { f.badNonce = true }, wantErr: "nonce"},
		{name: "missing", set: func(f *fakeIdP) { f.noIDToken = true }, wantErr: "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			if tc.set != nil {
				tc.set(f)
			}
			pages := make(chan *page, 1)
			_, err := newTestBrowser(t, f, pages, f.env("openid")).Authorize(context.Background())
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestIDTokenExpiredAndBadSignature(t *testing.T) {
	f := newFakeIdP(t)
	v := newIDTokenVerifier(f.srv.URL, f.srv.URL+"/jwks", "cli", nil, func() time.Time { return time.Now().Add(2 * time.Hour) })
	raw := f.idToken("cli", "n")
	err := v.verify(context.Background(), raw, "n")
	require.Error(t, err, "expired")
	assert.Contains(t, err.Error(), "expired")

	v = newIDTokenVerifier(f.srv.URL, f.srv.URL+"/jwks", "cli", nil, time.Now)
	require.NoError(t, v.verify(context.Background(), raw, "n"))
	tampered := raw[:len(raw)-4] + "AAAA"
	require.Error(t, v.verify(context.Background(), tampered, "n"), "bad signature")
}
