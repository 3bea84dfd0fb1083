package oauth2auth

import (
	"context"
	"log/slog"
	"slices"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/filecache"
	"golang.org/x/oauth2"
)

// load returns the cached token, or nil. A cache failure is logged and
// treated as a miss: the user can still sign in. So is a token the DPoP
// rules ignore (see usable): bound to another key, or without the key.
func (s *userSession) load(ctx context.Context) *oauth2.Token {
	tok := s.loadAny(ctx)
	if tok != nil && !s.usable(tok) {
		return nil
	}
	return tok
}

// usable applies the cache rules of DPoP to a cached token: with WithDPoP
// it must carry a key (a cache that dropped it gives a miss), and with an
// explicit key, that key; WithDPoP(nil) adopts the cached key. Without
// WithDPoP a token with a key, or of type DPoP, is not usable.
func (s *userSession) usable(tok *oauth2.Token) bool {
	k := dpop.KeyOf(tok)
	why := ""
	switch {
	case !s.o.dpop.set && (k != nil || dpop.IsDPoP(tok)):
		why = "it is DPoP-bound and WithDPoP is not set"
	case !s.o.dpop.set:
		return true
	case k == nil || !dpop.IsDPoP(tok):
		why = "it is not a DPoP token with its key and WithDPoP is set"
	case s.o.dpop.generated:
		if cur := s.sessionKey(); !cur.Equal(k) {
			s.adopted.Store(k)
		}
		return true
	case !k.Equal(s.o.dpop.key):
		why = "it is bound to another DPoP key"
	default:
		return true
	}
	s.o.logger.Info("oauth2auth: ignoring the cached session", slog.String("flow", string(s.flow)),
		slog.String("reason", why))
	return false
}

// loadAny is load without the DPoP rules, for SignOut: a session it
// cannot use is still revoked.
func (s *userSession) loadAny(ctx context.Context) *oauth2.Token {
	tok, err := s.cache.Load(ctx, s.key)
	if err != nil {
		s.o.logger.Warn("oauth2auth: reading the token cache failed", slog.Any("error", err))
		return nil
	}
	return tok
}

// store caches tok and remembers it for SignOut. A cache failure is logged,
// not returned: the caller still gets a working token, and the next run
// signs in again.
func (s *userSession) store(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	s.last.Store(tok)
	if err := s.cache.Store(ctx, s.key, tok); err != nil {
		s.o.logger.Warn("oauth2auth: writing the token cache failed", slog.Any("error", err))
	}
	return tok, nil
}

// lock makes the caller the only one in this process (turn) and, when the
// cache is a [base.CacheLocker], across processes, until unlock. It honours
// ctx while waiting. unlock is never nil when err is nil.
func (s *userSession) lock(ctx context.Context) (unlock func(), err error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, wireError(ctx, "waiting for another sign-in in this process", ctx.Err())
	}
	leave := func() { <-s.turn }
	l, ok := s.cache.(base.CacheLocker)
	if !ok {
		return leave, nil
	}
	release, err := l.Lock(ctx, s.key)
	if err != nil {
		leave()
		return nil, &authorizer.AuthorizationError{Message: "oauth2auth: waiting for the token cache lock failed", Err: err}
	}
	return func() {
		if err := release(); err != nil {
			s.o.logger.Warn("oauth2auth: releasing the token cache lock failed", slog.Any("error", err))
		}
		leave()
	}, nil
}

// cacheKey is the default key: issuer (or token URL), client id, and what
// was asked for (scopes, resources, audience), so that tokens for different
// requests never mix.
func cacheKey(env *Environment, clientID string, scopes []string) string {
	who := env.Issuer
	if who == "" {
		who = env.TokenURL
	}
	parts := slices.Clone(scopes)
	for _, r := range env.Resources {
		parts = append(parts, "resource="+r)
	}
	if env.Audience != "" {
		parts = append(parts, "audience="+env.Audience)
	}
	return filecache.Key(who, clientID, parts)
}
