package oauth2auth

import (
	"context"
	"net/url"
	"strings"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// BrowserAuthorizer signs a user in through the system browser with the
// authorization code grant and PKCE (RFC 6749 §4.1, RFC 7636 S256), for
// native apps (RFC 8252): a one-shot server on 127.0.0.1 and a random port
// receives the redirect, checks state (and, for OpenID Connect, the ID
// token's nonce and the iss parameter of RFC 9207), shows a landing page,
// and stops.
//
// It implements [base.Authorizer] and is safe for concurrent use. Authorize
// returns a cached token when there is one (see [WithTokenCache]), refreshes
// it when it has expired, and opens the browser otherwise. ctx bounds the
// sign-in, which also ends after [WithSignInTimeout] (default
// [DefaultSignInTimeout]).
//
// Printing: fmt, slog and encoding/json show the flow and client id, never
// a secret or a token.
type BrowserAuthorizer struct {
	*userSession // behind a pointer, so that printing a copy shows no secret
}

var (
	_ base.Authorizer   = (*BrowserAuthorizer)(nil)
	_ base.ClientInfoer = (*BrowserAuthorizer)(nil)
)

// NewBrowserAuthorizer returns a BrowserAuthorizer for the (usually public)
// client info at the provider env. env needs AuthURL and TokenURL, or an
// Issuer to discover them from. The client must accept
// http://127.0.0.1:<any port>/callback as a redirect URI.
//
// Errors are *[authorizer.InvalidConfigError], also for an option of
// another flow (e.g. [WithDevicePrompt]).
func NewBrowserAuthorizer(info data.ClientInfo, env Environment, opts ...Option) (*BrowserAuthorizer, error) {
	s, err := newUserSession(info, env, flowBrowser, opts)
	if err != nil {
		return nil, err
	}
	a := &BrowserAuthorizer{s}
	a.signIn = a.browserSignIn
	if a.o.user.openBrowser == nil {
		a.o.user.openBrowser = OpenSystemBrowser
	}
	if a.o.user.landing == nil {
		a.o.user.landing = defaultLanding
	}
	if a.o.user.signInTimeout <= 0 {
		a.o.user.signInTimeout = DefaultSignInTimeout
	}
	return a, nil
}

// browserSignIn runs one authorization code + PKCE sign-in.
func (a *BrowserAuthorizer) browserSignIn(ctx context.Context, env *Environment) (*oauth2.Token, string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.o.user.signInTimeout)
	defer cancel()
	state, proof, key := randomString(), newPKCE(), a.sessionKey()
	nonce := ""
	if a.openid {
		nonce = randomString()
	}
	srv, err := startLoopback(state, env.Issuer, a.o.user.landing, a.o.logger)
	if err != nil {
		return nil, "", err
	}
	defer srv.close()
	authURL := a.authCodeURL(env, srv.redirectURI, state, nonce, proof, key)
	openOrPrint(ctx, a.o.user.openBrowser, authURL)
	code, err := srv.wait(ctx)
	if err != nil {
		return nil, "", err
	}
	tok, err := a.exchange(ctx, env, code, proof.verifier, srv.redirectURI, key)
	return tok, nonce, err
}

// authCodeURL is the authorization request (RFC 6749 §4.1.1 + RFC 7636
// §4.3). prompt=consent is added when offline_access is asked for: OpenID
// Connect providers drop offline_access (and so the refresh token)
// without it (OIDC Core §11). With a DPoP key it carries dpop_jkt
// (RFC 9449 §10), binding the code to the key.
func (a *BrowserAuthorizer) authCodeURL(env *Environment, redirectURI, state, nonce string, proof pkce, key *dpop.Key) string {
	q := a.grantParams(env)
	q.Set("client_id", a.info.ClientID)
	q.Set("response_type", "code")
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	q.Set("code_challenge", proof.challenge)
	q.Set("code_challenge_method", challengeMethod)
	if nonce != "" {
		q.Set("nonce", nonce)
	}
	if key != nil {
		q.Set("dpop_jkt", key.Thumbprint())
	}
	if a.hasScope("offline_access") && q.Get("prompt") == "" {
		q.Set("prompt", "consent")
	}
	sep := "?"
	if strings.Contains(env.AuthURL, "?") {
		sep = "&"
	}
	return env.AuthURL + sep + q.Encode()
}

// exchange redeems the code with the PKCE verifier (RFC 6749 §4.1.3,
// RFC 7636 §4.5), signing with key, the dpop_jkt's key (nil without DPoP).
func (a *BrowserAuthorizer) exchange(ctx context.Context, env *Environment, code, verifier, redirectURI string, key *dpop.Key) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier}, "redirect_uri": {redirectURI}}
	return a.tokenRequestKey(ctx, env, form, key)
}
