package oauth2auth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// This file is the user sign-in session that [DeviceAuthorizer] and
// [BrowserAuthorizer] share, top to bottom: the type and its constructor,
// the endpoints, then Authorize, Refresh and SignIn with the steps they
// take. The token cache and its lock are in sessioncache.go, sign-out and
// revocation in revoke.go, ID-token checks in idtoken.go; the flows'
// interactive parts in device.go and browser.go.

// UserAuthorizer is what the user sign-in authorizers (*[DeviceAuthorizer],
// *[BrowserAuthorizer]) offer besides [base.Authorizer]: an explicit sign-in
// (a tool's "login" command) and sign-out. Both are safe for concurrent use.
//
// With [base.Transport]: call Authorize (or SignIn) with the command's own
// context before the first request, so that the user's part of a sign-in
// is not cut short by the Transport's fetch timeout (30 s by default); give
// the Transport base.WithFetchTimeout([DefaultSignInTimeout]) when it may
// have to sign the user in again itself ([WithInteractiveReauth]).
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
// checks and sign-out. It is safe for concurrent use: the fields above disc
// are set by newUserSession and read-only afterwards; a sign-in, a refresh
// and a sign-out each run alone (turn, and the cache's lock across
// processes).
type userSession struct {
	info   data.ClientInfo
	o      options
	scopes []string // requested scopes (Environment's and the options')
	openid bool     // "openid" is among scopes: ID tokens are verified
	flow   flow
	signIn signInFunc
	config Environment // as given, with the extra resources
	cache  base.TokenCache
	key    string

	disc *discoverer // the endpoints, discovered when config lacks some
	idv  atomic.Pointer[idTokenVerifier]
	turn chan struct{} // capacity 1: held across a sign-in or refresh in this process

	last           atomic.Pointer[oauth2.Token] // newest token, for SignOut without a cache
	refreshRefused atomic.Bool                  // a refresh token was refused in this process
	adopted        atomic.Pointer[dpop.Key]     // WithDPoP(nil): the cached session's key, once loaded
}

// newUserSession applies opts for flow f and checks what can be checked
// before any request.
func newUserSession(info data.ClientInfo, env Environment, f flow, opts []Option) (*userSession, error) {
	o, err := newOptions(f, opts)
	if err != nil {
		return nil, err
	}
	if info.ClientID == "" {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: ClientInfo.ClientID", Problem: "is empty"}
	}
	env = env.Clone()
	if err := o.applyEnvironment(&env); err != nil {
		return nil, err
	}
	env.Resources = slices.Concat(env.Resources, o.user.extraResources)
	if err := env.Validate(o.insecureHTTP); err != nil {
		return nil, err
	}
	s := &userSession{info: info, o: o, flow: f, config: env, turn: make(chan struct{}, 1)}
	s.scopes = userScopes(&env, &o)
	s.openid = slices.Contains(s.scopes, "openid")
	if s.openid && env.Issuer == "" {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment.Issuer",
			Problem: "is needed to verify ID tokens when the openid scope is requested"}
	}
	s.cache = cmpOr[base.TokenCache](o.user.cache, base.NewMemoryCache())
	s.key = cmpOr(o.user.cacheKey, cacheKey(&env, info.ClientID, s.scopes))
	s.disc = newDiscoverer(o.now, s.discover)
	return s, nil
}

// cmpOr returns v, or def when v is the zero value (a nil interface).
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// userScopes are the Environment's scopes followed by [WithExtraScopes]',
// without duplicates.
func userScopes(env *Environment, o *options) []string {
	var out []string
	for _, s := range slices.Concat(env.Scopes, o.user.extraScopes) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Expired implements [base.Authorizer] with [base.TokenExpired].
func (s *userSession) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, s.o.now()) }

// ClientInfo implements [base.ClientInfoer].
func (s *userSession) ClientInfo() data.ClientInfo { return s.info }

// endpoints returns the environment with the endpoints this flow needs:
// as configured when it has them all, else discovered from the Issuer
// (once, and again after DiscoveryTTL; a failed discovery is tried again
// on the next call).
func (s *userSession) endpoints(ctx context.Context) (*Environment, error) {
	if s.missingEndpoint(&s.config) == "" {
		return &s.config, nil
	}
	if s.config.Issuer == "" {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment." + s.missingEndpoint(&s.config),
			Problem: "is empty, and there is no Issuer to discover it from"}
	}
	return s.disc.get(ctx)
}

// discover fills in the endpoints the configuration lacks from the
// provider's metadata and checks the result.
func (s *userSession) discover(ctx context.Context) (Environment, error) {
	d, err := s.config.Discover(ctx, s.o.httpClient)
	if err != nil {
		return d, err
	}
	if err := d.Validate(s.o.insecureHTTP); err != nil {
		return d, err
	}
	if missing := s.missingEndpoint(&d); missing != "" {
		return d, &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment." + missing,
			Problem: "is empty and was not discovered"}
	}
	return d, nil
}

// missingEndpoint names the first endpoint the flow needs that env lacks.
func (s *userSession) missingEndpoint(env *Environment) string {
	switch {
	case env.TokenURL == "":
		return "TokenURL"
	case s.flow == flowDevice && env.DeviceAuthURL == "":
		return "DeviceAuthURL"
	case s.flow == flowBrowser && env.AuthURL == "":
		return "AuthURL"
	case s.openid && env.JWKSURL == "":
		return "JWKSURL"
	}
	return ""
}

// Authorize returns the cached token when it is still valid, a refreshed
// one when the cached token has a refresh token, and otherwise signs the
// user in interactively (see [WithInteractiveReauth] for when that is not
// allowed). With a [base.CacheLocker] cache it holds the lock from the
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
		s.o.logger.Debug("oauth2auth: using the token another process cached", s.logAttrs(tok)...)
		return tok, nil
	}
	if tok != nil {
		return s.refreshLocked(ctx, tok)
	}
	if s.refreshRefused.Load() && !s.o.user.interactiveReauth {
		return nil, s.reauthError(nil, nil)
	}
	return s.signInLocked(ctx)
}

// Refresh implements [base.Authorizer]: it redeems the newest refresh token
// (the cached one when another process rotated tok's), keeps a rotated
// one, and stores the result. A refused refresh token gives an
// *[authorizer.InvalidCredentialsError] unless [WithInteractiveReauth]
// allows a new sign-in.
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
		return s.signInOrRefuse(ctx, nil, nil)
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
		return s.signInOrRefuse(ctx, tok, nil)
	}
	env, err := s.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	next, err := s.tokenRequestKey(ctx, env, refreshForm(tok.RefreshToken), s.refreshKey(tok))
	var refused *authorizer.InvalidCredentialsError
	if errors.As(err, &refused) {
		s.refreshRefused.Store(true)
		s.o.logger.Info("oauth2auth: refresh token refused", slog.String("flow", string(s.flow)))
		s.markEnded(ctx, tok)
		return s.signInOrRefuse(ctx, nil, err)
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
	s.o.logger.Debug("oauth2auth: refreshed", s.logAttrs(next)...)
	return s.store(ctx, next)
}

// endedExpiry marks a cached session whose refresh token was refused.
var endedExpiry = time.Unix(1, 0)

// markEnded replaces the cached session, whose refresh token was refused,
// with an expired token without a refresh token: its access token is no
// longer offered, and later runs see a session that needs the user (not a
// first sign-in) until SignIn or SignOut.
func (s *userSession) markEnded(ctx context.Context, tok *oauth2.Token) {
	ended := withRefreshToken(tok, "")
	ended.Expiry = endedExpiry
	_, _ = s.store(ctx, ended)
}

// signInOrRefuse signs in again when allowed, or returns the typed error.
// tok is the session that could not be renewed (nil when unknown).
func (s *userSession) signInOrRefuse(ctx context.Context, tok *oauth2.Token, cause error) (*oauth2.Token, error) {
	if !s.o.user.interactiveReauth {
		return nil, s.reauthError(tok, cause)
	}
	return s.signInLocked(ctx)
}

// reauthError says a new interactive sign-in is needed but not allowed,
// and, when the session simply has no refresh token, how to get one.
func (s *userSession) reauthError(tok *oauth2.Token, cause error) error {
	var refused *authorizer.InvalidCredentialsError
	if errors.As(cause, &refused) {
		return refused
	}
	desc := "the session cannot be renewed without the user; sign in again"
	if tok != nil && !tok.Expiry.Equal(endedExpiry) {
		desc = "the session has no refresh token, so it cannot be renewed without the user: request the offline_access scope " +
			"(Environment.Scopes or WithExtraScopes) for a refresh token, and sign in again"
	}
	return &authorizer.InvalidCredentialsError{Code: "interaction_required", Description: desc, Err: cause}
}

// signInLocked runs the flow's interactive sign-in with the lock held.
func (s *userSession) signInLocked(ctx context.Context) (*oauth2.Token, error) {
	env, err := s.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	tok, nonce, err := s.signIn(ctx, env)
	if err != nil {
		return nil, s.signInError(ctx, err)
	}
	if err := s.checkIDToken(ctx, env, tok, nonce, true); err != nil {
		return nil, err
	}
	s.refreshRefused.Store(false)
	warnMissingScopes(s.o.logger, string(s.flow), s.scopes, tok)
	s.o.logger.Info("oauth2auth: signed in", s.logAttrs(tok)...)
	return s.store(ctx, tok)
}

// signInError explains a sign-in cut short by the caller's deadline: most
// often the Transport's fetch timeout, too short for a person.
func (s *userSession) signInError(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return &authorizer.AuthorizationError{Err: err, Message: "oauth2auth: an interactive " + string(s.flow) +
		" sign-in was in progress when the caller's deadline ended (base.Transport's fetch timeout, 30 s by default," +
		" is too short for a person): command-line tools call Authorize or SignIn with their own context before the first request"}
}

// tokenRequest posts a grant to the token endpoint, with a DPoP proof of
// the session's key under WithDPoP.
func (s *userSession) tokenRequest(ctx context.Context, env *Environment, form map[string][]string) (*oauth2.Token, error) {
	return s.tokenRequestKey(ctx, env, form, s.sessionKey())
}

// tokenRequestKey is tokenRequest with the DPoP key to sign with (nil: the
// authorizer's; unused without WithDPoP).
func (s *userSession) tokenRequestKey(ctx context.Context, env *Environment, form map[string][]string, key *dpop.Key) (*oauth2.Token, error) {
	req := s.o.request(s.info, "token", env.TokenURL)
	s.o.withProof(&req, key)
	req.Form = form
	return tokenwire.Do(ctx, req)
}

// sessionKey is the key the session signs new token requests with: the
// one adopted from the cache (WithDPoP(nil)), else the configured one; nil
// without WithDPoP.
func (s *userSession) sessionKey() *dpop.Key {
	if k := s.adopted.Load(); k != nil {
		return k
	}
	return s.o.dpop.key
}

// refreshKey is the DPoP key a refresh of tok signs with: the one tok is
// bound to (a public client's refresh token is bound to it too), else the
// session's.
func (s *userSession) refreshKey(tok *oauth2.Token) *dpop.Key {
	if k := dpop.KeyOf(tok); k != nil {
		return k
	}
	return s.sessionKey()
}

// grantParams are the parameters every sign-in request carries: scope,
// audience, resource indicators (RFC 8707) and the Environment's Params.
func (s *userSession) grantParams(env *Environment) url.Values {
	e := *env
	e.Scopes = s.scopes
	return e.TokenParams()
}

// hasScope reports whether scope is requested.
func (s *userSession) hasScope(scope string) bool { return slices.Contains(s.scopes, scope) }

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
	return []any{slog.String("flow", string(s.flow)), slog.String("client_id", s.info.ClientID),
		slog.String("access_token", data.Fingerprint(tok.AccessToken)),
		slog.Bool("refresh_token", tok.RefreshToken != ""), slog.Time("expiry", tok.Expiry)}
}
