package base

import (
	"context"
	"log/slog"

	"github.com/seed-d44eba79/authorizer"
	"golang.org/x/oauth2"
)

// lockCache takes the shared cache's lock when it has one (CacheLocker), so
// that the sharers of one cache make one token request between them.
func (t *Transport) lockCache(ctx context.Context) (func(), error) {
	l, ok := t.cfg.cache.(CacheLocker)
	if !ok {
		return func() {}, nil
	}
	unlock, err := l.Lock(ctx, t.cfg.cacheKey)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "base: locking the token cache", Err: err}
	}
	return func() {
		if err := unlock(); err != nil {
			t.log(slog.LevelWarn, "token cache unlock failed", slog.String("error", err.Error()))
		}
	}, nil
}

// fromCache returns the cached token when it is usable and is not old's
// token (another process or replica renewed it), or nil. Cache failures
// are logged and ignored: the cache is an optimisation, never a reason for
// a request to fail.
func (t *Transport) fromCache(ctx context.Context, old *tokenState) *tokenState {
	tok, err := t.cfg.cache.Load(ctx, t.cfg.cacheKey)
	if err != nil {
		t.log(slog.LevelWarn, "token cache load failed", slog.String("error", err.Error()))
		return nil
	}
	if tok == nil || tok.AccessToken == "" || t.a.Expired(tok) {
		return nil
	}
	if old != nil && old.tok.AccessToken == tok.AccessToken {
		return nil // the token we are replacing
	}
	st := newTokenState(tok, t.cfg.refreshAhead, t.now())
	if !t.now().Before(st.staleAt) && old != nil && !old.invalid {
		return nil // no fresher than what we are renewing ahead of time
	}
	return st
}

// toCache stores a new token; a failure is logged, not returned.
func (t *Transport) toCache(ctx context.Context, tok *oauth2.Token) {
	if err := t.cfg.cache.Store(ctx, t.cfg.cacheKey, tok); err != nil {
		t.log(slog.LevelWarn, "token cache store failed", slog.String("error", err.Error()))
	}
}
