package e2e

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/web"
	"github.com/stretchr/testify/require"
)

var appPage = template.Must(template.New("app").Parse(`<!doctype html><title>app</title>
{{if .Signed}}<p id="who">hello {{.Subject}}</p><p id="tok">{{.Token}}</p>
<form method="post" action="/sign-out"><input type="hidden" name="rd" value="/"><button id="signout" type="submit">Sign out</button></form>
{{else}}<p id="who">anonymous</p>{{end}}`))

// startWebApp serves a page protected by package web on the origin the
// peer's sdk-web client is registered for (the peer's port + 1000).
func startWebApp(t *testing.T, issuer string) string {
	u, err := url.Parse(issuer)
	require.NoError(t, err)
	port, _ := strconv.Atoi(u.Port())
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1000))
	appURL := "http://" + addr
	login, err := web.New(web.Config{Issuer: issuer, Client: data.ClientInfo{ClientID: "sdk-web", ClientSecret: "sdk-web-secret"},
		ExternalURL: appURL, ProtectedPaths: []string{"/private/"}, SessionSecret: "e2e session secret, at least 32 bytes long",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := &http.Server{Handler: login.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := struct {
			Signed         bool
			Subject, Token string
		}{}
		if id, ok := web.IdentityFrom(r.Context()); ok {
			tok, err := id.Authorize(r.Context())
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			v.Signed, v.Subject, v.Token = true, id.Subject, data.Fingerprint(tok.AccessToken)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		appPage.Execute(w, v)
	}))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); login.Close() })
	return appURL
}

func text(ctx context.Context, sel string) (string, error) {
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
}

// loginAtProvider fills the dev login page and consents.
func loginAtProvider(ctx context.Context, login string) error {
	return chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "any password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`input[name=prompt][value=consent]`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
}

// confirmProviderLogout answers the provider's "sign out?" page.
// waitLocation waits (bounded by ctx) until the page's URL path ends with
// suffix.
func waitLocation(ctx context.Context, suffix string) error {
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			if u, err := url.Parse(loc); err == nil && strings.HasSuffix(u.Path, suffix) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func confirmProviderLogout(ctx context.Context) error {
	return chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`button[name=logout][value=yes]`)),
		chromedp.Click(chromedp.CSS(`button[name=logout][value=yes]`)),
	)
}

// The proof in a real browser: sign in, see the identity, survive an
// access-token expiry (5-second tokens) with no new login, sign out at the
// provider and come back signed out, then a back-channel logout (the user
// signs out at the provider itself) that signs the browser out on its next
// request.
func TestWebSignInWithChromium(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	ctx := startChromium(t)
	app := startWebApp(t, issuer)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app+"/private/page")))
	require.NoError(t, loginAtProvider(ctx, "erin"))
	who, err := text(ctx, "#who")
	require.NoError(t, err)
	require.Equal(t, "hello erin", who)
	first, err := text(ctx, "#tok")
	require.NoError(t, err)

	// Reload until the access token was refreshed; a login page on the
	// way would fail the #who check.
	refreshed := false
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline) && !refreshed; {
		time.Sleep(time.Second)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app+"/private/page")))
		who, err = text(ctx, "#who")
		require.NoError(t, err)
		require.Equal(t, "hello erin", who, "still signed in while the token expires")
		tok, err := text(ctx, "#tok")
		require.NoError(t, err)
		refreshed = tok != first
	}
	require.True(t, refreshed, "the access token was refreshed without a new login")

	// RP-initiated logout: the app's sign-out button, the provider's
	// confirmation, back to the app signed out.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#signout`))))
	require.NoError(t, confirmProviderLogout(ctx))
	who, err = text(ctx, "#who")
	require.NoError(t, err)
	require.Equal(t, "anonymous", who, "back at the app, signed out")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc, app+"/"), "returned to the app: %s", loc)

	// Sign in again, then sign out at the provider directly: the provider's
	// back-channel logout reaches the app, and the next page load asks for
	// a login.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app+"/private/page")))
	require.NoError(t, loginAtProvider(ctx, "erin"))
	who, err = text(ctx, "#who")
	require.NoError(t, err)
	require.Equal(t, "hello erin", who)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(issuer+"/session/end")))
	require.NoError(t, confirmProviderLogout(ctx))
	// The confirmation is a form POST that ends on the provider's success
	// page; navigating away before it lands aborts one of the two loads.
	require.NoError(t, waitLocation(ctx, "/session/end/success"), "the provider's logout finished")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(app+"/private/page"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login]`))), "signed out by the back-channel logout")
	fmt.Fprintln(os.Stderr, "web e2e: signed in, refreshed, signed out twice")
}
