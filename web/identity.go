package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// Identity is the signed-in user of a request: the claims of the verified
// ID token, and the user's access token. It is a [base.Authorizer], so
// [base.NewClient](id) calls APIs as the user; its token is refreshed (once
// per session, shared with the middleware) when due.
//
// An Identity is safe for concurrent use. Printing it shows no token.
type Identity struct {
	// Subject, Email, Name and SessionID are the ID token's sub, email,
	// name and sid claims ("" when absent).
	Subject, Email, Name, SessionID string

	l *Login
	s atomic.Pointer[session] // the latest session; replaced by Refresh
}

var _ base.Authorizer = (*Identity)(nil)

type identityKey struct{}

func newIdentity(l *Login, s *session) *Identity {
	id := &Identity{Subject: s.claims.Subject, Email: s.claims.Email, Name: s.claims.Name, SessionID: s.claims.SessionID, l: l}
	id.s.Store(s)
	return id
}

// IdentityFrom returns the Identity the middleware put in a request's
// context; ok is false when the request has no session.
func IdentityFrom(ctx context.Context) (id *Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(*Identity)
	return id, ok
}

// IDToken returns the raw ID token (for an id_token_hint, or an API that
// takes it). It is a secret: do not log it.
func (id *Identity) IDToken() string { return id.s.Load().idToken }

// Decode unmarshals the ID token's claims into v (any claim, e.g. groups).
func (id *Identity) Decode(v any) error {
	parts := strings.Split(id.IDToken(), ".")
	if len(parts) != 3 {
		return errors.New("web: no ID token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, v)
}

// Authorize returns the user's access token, refreshed first when due.
// When that refresh fails without being refused (the provider or the
// session store failing, another replica's refresh outlasting its wait)
// and the token has not expired, it returns the token as it is. The token
// must not be modified. Once the session has ended in this
// process (sign-out, back-channel logout, a refused refresh) it is an
// *[authorizer.InvalidCredentialsError].
func (id *Identity) Authorize(ctx context.Context) (*oauth2.Token, error) {
	s := id.s.Load()
	if id.l.denied.denies(s) {
		return nil, &authorizer.InvalidCredentialsError{Err: errors.New("web: the session ended; sign in again")}
	}
	now := id.l.cfg.Now()
	if !s.refreshDue(now) {
		return s.token(), nil
	}
	tok, err := id.refresh(ctx, s)
	if err != nil && temporary(err) && ctx.Err() == nil && now.Before(s.expiry) {
		// Not refused (the provider or the store failing, another
		// replica's refresh still running): the token is still valid.
		return s.token(), nil
	}
	return tok, err
}

// Expired reports whether tok is within its expiration gap.
func (id *Identity) Expired(tok *oauth2.Token) bool {
	s := id.s.Load()
	return !id.l.cfg.Now().Before(tok.Expiry.Add(-data.EffectiveGap(s.expiry.Sub(s.issued))))
}

// Refresh refreshes the session's access token (shared with every other
// request of the session). Without a refresh token it is an
// *[authorizer.InvalidCredentialsError]: the user must sign in again.
func (id *Identity) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return id.refresh(ctx, id.s.Load())
}

func (id *Identity) refresh(ctx context.Context, s *session) (*oauth2.Token, error) {
	if s.refresh == "" {
		if id.l.cfg.Now().Before(s.expiry) {
			return s.token(), nil
		}
		return nil, &authorizer.InvalidCredentialsError{Err: errors.New("web: access token expired and no refresh token; sign in again")}
	}
	ns, err := id.l.refresher.refresh(ctx, s)
	if err != nil {
		return nil, err
	}
	id.s.Store(ns)
	return ns.token(), nil
}

func (s *session) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: s.access, TokenType: "Bearer", Expiry: s.expiry}
}

// String shows the identity without its tokens.
func (id *Identity) String() string {
	return fmt.Sprintf("web.Identity{Subject: %q, Email: %q, SessionID: %q}", id.Subject, id.Email, id.SessionID)
}

// Format prints String for every verb, so no verb shows a token.
func (id *Identity) Format(f fmt.State, _ rune) { fmt.Fprint(f, id.String()) }
