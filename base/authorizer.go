package base

import (
	"context"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// Authorizer obtains and renews the token that authorizes requests.
//
// Concurrency: an Authorizer must be safe for concurrent use by multiple
// goroutines. A Transport calls Authorize and Refresh from one goroutine at
// a time per Transport, but an Authorizer may be shared by several.
//
// Context: Authorize and Refresh must pass ctx to every request they make and
// return promptly (with an error wrapping ctx.Err()) once ctx is done. They
// must not keep ctx after returning. The Transport calls them with a context
// detached from any single caller, with its own timeout.
//
// Immutability: a returned token must not be modified afterwards, by the
// Authorizer or by its callers; it may be shared by many requests at once.
//
// Errors: failures should be, or wrap, the typed errors of package
// authorizer ([*authorizer.InvalidClientError],
// [*authorizer.InvalidCredentialsError], [*authorizer.AuthorizationError]),
// so that callers and the [Transport] can tell a refused credential (never
// retried automatically) from a temporary failure; the Transport wraps any
// other error in an AuthorizationError. A panic in Authorize or Refresh is
// recovered by the Transport and reported as a failed token request.
//
// Tokens: the Transport sends Bearer tokens (TokenType "Bearer" in any
// case, or empty) as "Authorization: Bearer <token>", and DPoP-bound
// tokens (RFC 9449: TokenType "DPoP" in any case, carrying the key they
// are bound to, see [dpop.Bind]) as "Authorization: DPoP <token>" with a
// new DPoP proof signed by that key for each request. The access token
// must be an RFC 6750 b64token. Any other token, and a DPoP token without
// its key ([dpop.KeyOf] nil), is refused as a failed token request: a
// DPoP token is never sent as Bearer.
type Authorizer interface {
	// Authorize obtains a new token from the credentials alone.
	Authorize(ctx context.Context) (*oauth2.Token, error)
	// Expired reports whether tok should no longer be sent. It must be
	// cheap, must not block, and must not call out over the network.
	Expired(tok *oauth2.Token) bool
	// Refresh obtains a token to replace tok, e.g. with tok's refresh token.
	// An Authorizer without a cheaper way simply authorizes again. A refused
	// refresh (e.g. an expired refresh token) should be reported as an
	// [*authorizer.InvalidCredentialsError]: the Transport then falls back to
	// Authorize once. tok is always the newest token the Transport holds.
	Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error)
}

// ClientInfoer is implemented by [Authorizer]s that know their client. The
// [Transport] sends ClientInfo().APIKey in the X-Api-Key header when it is
// set (unless [WithAPIKey] gives another).
type ClientInfoer interface {
	ClientInfo() data.ClientInfo
}

// TokenExpired is the expiry rule of this SDK's authorizers, for use in
// Expired methods: tok is expired when it is nil or empty, or when less than
// [data.EffectiveGap] of its lifetime remains at now. The lifetime is
// tok.ExpiresIn (seconds); when a token arrives with an Expiry but no
// ExpiresIn, the [Transport] fills ExpiresIn in from the Expiry (on a
// copy), so that this rule and its refresh-ahead point use one lifetime. A
// token without an Expiry is not expired by this rule: authorizers give
// every token they issue an Expiry, and the Transport drops a token that a
// resource server refuses (401).
func TokenExpired(tok *oauth2.Token, now time.Time) bool {
	if tok == nil || tok.AccessToken == "" {
		return true
	}
	if tok.Expiry.IsZero() {
		return false
	}
	return !now.Before(tok.Expiry.Add(-data.EffectiveGap(tokenLifetime(tok))))
}
