package base

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// TokenSource returns an [oauth2.TokenSource] backed by the Transport, for
// code written against golang.org/x/oauth2. Its Token calls
// [Transport.Token] with ctx. A DPoP-bound token is returned as it is:
// oauth2.Transport would send it without a proof, which a resource server
// refuses; send such tokens with the Transport itself.
func (t *Transport) TokenSource(ctx context.Context) oauth2.TokenSource {
	return transportSource{t: t, ctx: ctx}
}

type transportSource struct {
	t   *Transport
	ctx context.Context
}

func (s transportSource) Token() (*oauth2.Token, error) { return s.t.Token(s.ctx) }

// FromTokenSource wraps an [oauth2.TokenSource] as an [Authorizer].
// Authorize and Refresh both call ts.Token, which takes no context: ctx
// bounds nothing there, so give ts its own timeouts. [Transport.Close] does
// not wait for such a call beyond a short bound; it may finish later, and
// its token is then dropped. Expired is [TokenExpired]. A token without an
// Expiry (e.g. from [oauth2.StaticTokenSource]) is used until a resource
// server refuses it (401).
func FromTokenSource(ts oauth2.TokenSource) Authorizer {
	return tokenSourceAuthorizer{ts: ts}
}

type tokenSourceAuthorizer struct{ ts oauth2.TokenSource }

var _ Authorizer = tokenSourceAuthorizer{}

func (a tokenSourceAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.ts.Token()
}

func (a tokenSourceAuthorizer) Expired(tok *oauth2.Token) bool { return TokenExpired(tok, time.Now()) }

func (a tokenSourceAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}
