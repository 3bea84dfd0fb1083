// Command signin signs a person in from a command-line tool and calls a
// protected API with their token. It keeps them signed in across runs: the
// tokens live in a file cache (0600, in the user's cache directory), the
// next run reuses the access token or refreshes it, and only a first run
// (or -login) asks the user to sign in.
//
// Two ways to sign in:
//
//	-flow=device   show a code and a web address (RFC 8628): works over SSH
//	-flow=browser  open the system browser (authorization code + PKCE,
//	               loopback redirect on 127.0.0.1)
//
// Against the project's oidc-provider harness (scripts/peers/oidc-provider):
//
//	go run ./examples/signin -flow=browser
//	go run ./examples/signin -flow=device -api=http://127.0.0.1:9010/me
//	go run ./examples/signin -signout
//
// Set AUTHORIZER_CACHE_KEY to 64 hex digits (e.g. kept in the OS keychain
// and exported by a wrapper) to encrypt the cache file with AES-256-GCM.
// Tokens are printed only as fingerprints.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// config is the command line.
type config struct {
	flow, issuer, clientID, scopes, api, cacheDir string
	login, signout, reauth                        bool
	// extra options, for tests (e.g. a prompt that plays the user).
	extra []oauth2auth.Option
}

func main() {
	var c config
	flag.StringVar(&c.flow, "flow", "browser", "how to sign in: device or browser")
	flag.StringVar(&c.issuer, "issuer", "http://127.0.0.1:9010", "OpenID provider (issuer URL)")
	flag.StringVar(&c.clientID, "client", "sdk-native", "public client id")
	flag.StringVar(&c.scopes, "scopes", "openid offline_access email", "scopes to ask for")
	flag.StringVar(&c.api, "api", "", "protected API URL to call (default: the issuer's userinfo endpoint /me)")
	flag.StringVar(&c.cacheDir, "cache-dir", "", "token cache directory (default: the user cache directory)")
	flag.BoolVar(&c.login, "login", false, "sign in again even if a session is cached")
	flag.BoolVar(&c.signout, "signout", false, "sign out: forget and revoke the cached tokens")
	flag.BoolVar(&c.reauth, "reauth", true, "sign in again when the cached session has ended")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		log.Fatal(explain(err))
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	a, err := newAuthorizer(c)
	if err != nil {
		return err
	}
	if c.signout {
		if err := a.SignOut(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "signed out")
		return nil
	}
	if c.login {
		if _, err := a.SignIn(ctx); err != nil {
			return err
		}
	}
	return callAPI(ctx, a, c, out)
}

// newAuthorizer builds the chosen flow over a file cache.
func newAuthorizer(c config) (oauth2auth.UserAuthorizer, error) {
	var cacheOpts []filecache.Option
	if c.cacheDir != "" {
		cacheOpts = append(cacheOpts, filecache.WithDir(c.cacheDir))
	}
	if k := os.Getenv("AUTHORIZER_CACHE_KEY"); k != "" {
		key, err := hex.DecodeString(k)
		if err != nil {
			return nil, errors.New("AUTHORIZER_CACHE_KEY must be hex")
		}
		cacheOpts = append(cacheOpts, filecache.WithEncryptionKey(key))
	}
	cache, err := filecache.New(cacheOpts...)
	if err != nil {
		return nil, err
	}
	info := data.ClientInfo{ClientID: c.clientID}
	env := oauth2auth.Environment{Name: "signin", Issuer: c.issuer, Scopes: strings.Fields(c.scopes)}
	opts := append([]oauth2auth.Option{oauth2auth.WithTokenCache(cache),
		oauth2auth.WithInteractiveReauth(c.reauth)}, c.extra...)
	switch c.flow {
	case "device":
		return userAuthorizer(oauth2auth.NewDeviceAuthorizer(info, env, opts...))
	case "browser":
		return userAuthorizer(oauth2auth.NewBrowserAuthorizer(info, env, opts...))
	}
	return nil, fmt.Errorf("-flow must be device or browser, not %q", c.flow)
}

// userAuthorizer turns a constructor's result into the interface, without
// wrapping a nil pointer.
func userAuthorizer[A oauth2auth.UserAuthorizer](a A, err error) (oauth2auth.UserAuthorizer, error) {
	if err != nil {
		return nil, err
	}
	return a, nil
}

// callAPI calls the protected API through base.NewClient, which signs the
// user in (or reuses the cached session) on the first request.
func callAPI(ctx context.Context, a oauth2auth.UserAuthorizer, c config, out io.Writer) error {
	api := c.api
	if api == "" {
		api = strings.TrimSuffix(c.issuer, "/") + "/me"
	}
	// Sign in (or load the cached session) under this command's context
	// first: the Transport bounds each token fetch with its fetch timeout
	// (30 s by default), too short for a person. The longer fetch timeout
	// covers a sign-in the Transport starts itself when the session ends
	// mid-run (-reauth).
	tok, err := a.Authorize(ctx)
	if err != nil {
		return err
	}
	tr := base.NewTransport(a, base.WithFetchTimeout(oauth2auth.DefaultSignInTimeout))
	defer tr.Close()
	fmt.Fprintf(out, "access token %s (expires %s), refresh token %s\n", data.Fingerprint(tok.AccessToken),
		tok.Expiry.Format(time.TimeOnly), orNone(data.Fingerprint(tok.RefreshToken)))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "GET %s: %s\n%s\n", api, resp.Status, strings.TrimSpace(string(body)))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// explain adds what the user can do about typed errors.
func explain(err error) error {
	var refused *authorizer.InvalidCredentialsError
	if errors.As(err, &refused) {
		return fmt.Errorf("%w\n(your session has ended: run again with -login)", err)
	}
	return err
}
