package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/verify"
	"golang.org/x/oauth2"
)

// Compile-time check: the extension point is base.Authorizer.
var _ base.Authorizer = (*permissionAuthorizer)(nil)

// permissionAuthorizer gets a signed-in user's permission token for one
// service from a dgp-style permission service: GET
// /auth/authorize?service=S with the user's session as a bearer token,
// answered {"token": "<RS256 JWT>"}. Give it to base.NewTransport, which
// caches the token until its exp and shares it.
//
// It checks each token it gets with the permission service's public key
// (verify.PEMURL), as the service will: so a token from anywhere else is
// never sent, and the token's exp tells the Transport when to ask again.
//
// It is safe for concurrent use; every request carries ctx.
type permissionAuthorizer struct {
	authURL string           // the permission service's /auth/authorize
	service string           // the service the token is for
	session *string          // the user's session token; behind a pointer so that printing shows none
	check   *verify.Verifier // the permission service's key, the service as audience
	client  *http.Client
}

func newPermissionAuthorizer(permURL, issuer, service, session string) (*permissionAuthorizer, error) {
	check, err := verify.New(verify.PEMURL(permURL+"/auth/public-key"),
		verify.Expect{Issuer: issuer, Audience: []string{service}})
	if err != nil {
		return nil, err
	}
	return &permissionAuthorizer{authURL: permURL + "/auth/authorize", service: service, session: &session,
		check: check, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

// Authorize asks the permission service for a token for the service.
func (a *permissionAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.authURL+"?service="+url.QueryEscape(a.service), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+*a.session)
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "permissions: permission service unreachable", Err: err}
	}
	defer resp.Body.Close()
	var body struct{ Token, Error string }
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, &authorizer.InvalidCredentialsError{StatusCode: resp.StatusCode, Description: "the session is not signed in"}
	case resp.StatusCode != http.StatusOK || body.Token == "":
		return nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("permissions: no token for %s: %.80q", a.service, body.Error)}
	}
	claims, err := a.check.Verify(ctx, body.Token)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "permissions: the permission service's token does not verify", Err: err}
	}
	return &oauth2.Token{AccessToken: body.Token, TokenType: "Bearer", Expiry: claims.Expiry}, nil
}

// Expired is the SDK's rule: stale a little before exp.
func (a *permissionAuthorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, time.Now())
}

// Refresh asks again: permission tokens have no refresh token.
func (a *permissionAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// Close releases the key source.
func (a *permissionAuthorizer) Close() error { return a.check.Close() }
