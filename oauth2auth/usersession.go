package oauth2auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// UserAuthorizer is what the user sign-in authorizers (*DeviceAuthorizer,
// *BrowserAuthorizer) offer besides base.Authorizer: an explicit sign-in (a
// tool's "login" command) and sign-out. Both are safe for concurrent use.
//
// With base.Transport: call Authorize (or SignIn) with the command's own
// context before the first request, so that the user's part of a sign-in
// is not cut short by the Transport's fetch timeout (30 s by default); give
// the Transport base.WithFetchTimeout(DefaultSignInTimeout) when it may
// have to sign the user in again itself (WithInteractiveReauth).
type UserAuthorizer interface {
	base.Authorizer
	base.ClientInfoer
	// SignIn signs the user in interactively whatever is cached.
	SignIn(ctx context.Context) (*oauth2.Token, error)
	// SignOut forgets the cached tokens and revokes them at the provider.
	SignOut(ctx context.Context) error
}

var (
	_ UserAuthorizer = (*DeviceAuthorizer)(nil)
	_ UserAuthorizer = (*BrowserAuthorizer)(nil)
)

// signInFunc is a flow's interactive part: it returns a fresh token from
// the token endpoint, and the nonce it sent ("" for none).
type signInFunc func(ctx context.Context, env *Environment) (tok *oauth2.Token, nonce string, err error)

// userSession is what the device and browser authorizers share: the
// endpoints, the token cache and its lock, refresh with rotation, ID token
// checks and sign-out. It is safe for concurrent use: the fields above
// envMu are set by init and read-only afterwards; a sign-in, a refresh and
// a sign-out each run alone (turn, and the cache's lock across processes).
type userSession struct {
	info   data.ClientInfo
	deps   sessionDeps
	u      userOptions
	scopes []string // requested scopes (Environment's and the options')
	openid bool     // "openid" is among scopes: ID tokens are verified
	flow   string   // "device" or "browser", for logs
	signIn signInFunc

	insecureHTTP bool // InsecureAllowHTTP was given

	envMu sync.Mutex  // guards env, envOK: discovery runs once it succeeds
	env   Environment // endpoints, filled in by discovery
	envOK bool        // env has been resolved
	idv   atomic.Pointer[idTokenVerifier]

	turn  chan struct{} // capacity 1: held across a sign-in or refresh in this process
	cache base.TokenCache
	key   string

	last           atomic.Pointer[oauth2.Token] // newest token, for SignOut without a cache
	refreshRefused atomic.Bool                  // a refresh token was refused in this process
}

// sessionDeps are the settings shared with the other authorizers of this
// package.
type sessionDeps struct {
	httpClient      *http.Client
	auth            tokenwire.ClientAuth
	assertion       func(clientID, aud string, now time.Time) (string, error) // private_key_jwt
	logger          *slog.Logger
	now             func() time.Time
	defaultLifetime time.Duration
}

// Expired implements base.Authorizer with base.TokenExpired.
func (s *userSession) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, s.deps.now()) }

// ClientInfo implements base.ClientInfoer.
func (s *userSession) ClientInfo() data.ClientInfo { return s.info }

// Authorize returns the cached token when it is still valid, a refreshed
// one when the cached token has a refresh token, and otherwise signs the
// user in interactively (see WithInteractiveReauth for when that is not
// allowed). With a base.CacheLocker cache it holds the lock from the
// re-check to the store, so processes sharing the cache sign in once.
func (s *userSession) Authorize(ctx context.Context) (*oauth2.Token, error) {
	if tok := s.load(ctx); tok != nil && !s.Expired(tok) {
		return tok, nil
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tok := s.load(ctx) // another process may have signed in meanwhile
	if tok != nil && !s.Expired(tok) {
		s.deps.logger.Debug("oauth2auth: using the token another process cached", s.logAttrs(tok)...)
		return tok, nil
	}
	if tok != nil {
		return s.refreshLocked(ctx, tok)
	}
	if s.refreshRefused.Load() && !s.u.interactiveReauth {
		return nil, s.reauthError(nil)
	}
	return s.signInLocked(ctx)
}

// Refresh implements base.Authorizer: it redeems the newest refresh token
// (the cached one when another process rotated tok's), keeps a rotated
// one, and stores the result. A refused refresh token gives an
// *authorizer.InvalidCredentialsError unless WithInteractiveReauth allows a
// new sign-in.
func (s *userSession) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if cached := s.load(ctx); cached != nil {
		if !s.Expired(cached) && (tok == nil || cached.AccessToken != tok.AccessToken) {
			return cached, nil // refreshed by another process
		}
		tok = cached // its refresh token is the newest
	}
	if tok == nil {
		return s.signInOrRefuse(ctx, nil)
	}
	return s.refreshLocked(ctx, tok)
}

// SignIn starts an interactive sign-in whatever is cached, and caches the
// result: a tool's "login" command. It holds the cache lock like Authorize.
func (s *userSession) SignIn(ctx context.Context) (*oauth2.Token, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.signInLocked(ctx)
}

// refreshLocked refreshes tok with the cache lock held.
func (s *userSession) refreshLocked(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	if tok.RefreshToken == "" {
		return s.signInOrRefuse(ctx, nil)
	}
	env, err := s.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	next, err := s.tokenRequest(ctx, env, refreshForm(tok.RefreshToken))
	var refused *authorizer.InvalidCredentialsError
	if errors.As(err, &refused) {
		s.refreshRefused.Store(true)
		s.deps.logger.Info("oauth2auth: refresh token refused", slog.String("flow", s.flow))
		s.markEnded(ctx, tok)
		return s.signInOrRefuse(ctx, err)
	}
	if err != nil {
		return nil, err
	}
	if next.RefreshToken == "" { // not rotated: keep the old one
		next = withRefreshToken(next, tok.RefreshToken)
	}
	if err := s.checkIDToken(ctx, env, next, "", false); err != nil {
		return nil, err
	}
	s.deps.logger.Debug("oauth2auth: refreshed", s.logAttrs(next)...)
	return s.store(ctx, next)
}

// markEnded replaces the cached session, whose refresh token was refused,
// with an expired token without a refresh token: its access token is no
// longer offered, and later runs see a session that needs the user (not a
// first sign-in) until SignIn or SignOut.
func (s *userSession) markEnded(ctx context.Context, tok *oauth2.Token) {
	ended := withRefreshToken(tok, "")
	ended.Expiry = time.Unix(1, 0)
	_, _ = s.store(ctx, ended)
}

// signInOrRefuse signs in again when allowed, or returns the typed error.
func (s *userSession) signInOrRefuse(ctx context.Context, cause error) (*oauth2.Token, error) {
	if !s.u.interactiveReauth {
		return nil, s.reauthError(cause)
	}
	return s.signInLocked(ctx)
}

// reauthError says a new interactive sign-in is needed but not allowed.
func (s *userSession) reauthError(cause error) error {
	var refused *authorizer.InvalidCredentialsError
	if errors.As(cause, &refused) {
		return refused
	}
	return &authorizer.InvalidCredentialsError{Code: "interaction_required",
		Description: "the session cannot be renewed without the user; sign in again", Err: cause}
}

// signInLocked runs the flow's interactive sign-in with the lock held.
func (s *userSession) signInLocked(ctx context.Context) (*oauth2.Token, error) {
	env, err := s.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	tok, nonce, err := s.signIn(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := s.checkIDToken(ctx, env, tok, nonce, true); err != nil {
		return nil, err
	}
	s.refreshRefused.Store(false)
	s.deps.logger.Info("oauth2auth: signed in", s.logAttrs(tok)...)
	return s.store(ctx, tok)
}

// tokenRequest posts a grant to the token endpoint.
func (s *userSession) tokenRequest(ctx context.Context, env *Environment, form map[string][]string) (*oauth2.Token, error) {
	return tokenwire.Do(ctx, tokenwire.Request{HTTPClient: s.deps.httpClient, URL: env.TokenURL,
		Client: s.info, Auth: s.deps.auth, Assertion: s.deps.assertion, Form: form,
		DefaultLifetime: s.deps.defaultLifetime, Now: s.deps.now})
}

// refreshForm is an RFC 6749 §6 refresh request.
func refreshForm(refreshToken string) map[string][]string {
	return map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
}

// withRefreshToken returns a copy of tok with rt as its refresh token.
func withRefreshToken(tok *oauth2.Token, rt string) *oauth2.Token {
	cp := *tok // Extra (raw) is shared, read-only
	cp.RefreshToken = rt
	return &cp
}

// logAttrs describes tok for logs by fingerprints only.
func (s *userSession) logAttrs(tok *oauth2.Token) []any {
	return []any{slog.String("flow", s.flow), slog.String("client_id", s.info.ClientID),
		slog.String("access_token", data.Fingerprint(tok.AccessToken)),
		slog.Bool("refresh_token", tok.RefreshToken != ""), slog.Time("expiry", tok.Expiry)}
}
