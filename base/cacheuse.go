package base

import (
	"context"
	"log/slog"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// maxLockWait bounds how long a token request waits for a CacheLocker's
// lock, well under DefaultFetchTimeout: a shared cache that cannot lock
// (its store down, another process holding the lock too long) costs one
// token request of our own, never a failed request.
const maxLockWait = 2 * time.Second

// obtain gets a token to replace cur: from the cache when it holds a usable
// one (read first without the lock, then again under it), else from the
// Authorizer (see fetch), storing the new token in the cache.
func (t *Transport) obtain(ctx context.Context, cur *tokenState) (*tokenState, EventKind, error) {
	if t.cfg.cache == nil {
		return t.fetch(ctx, cur)
	}
	_, locker := t.cfg.cache.(CacheLocker)
	st, seen := t.fromCache(ctx, cur, !locker)
	if st != nil {
		return st, EventCacheHit, nil
	}
	if unlock, ok := t.lockCache(ctx); ok {
		defer unlock()
		if st, seen = t.fromCache(ctx, cur, true); st != nil {
			return st, EventCacheHit, nil
		}
	} else if locker && ctx.Err() != nil {
		// Close, or the fetch timeout, ended the wait: a Refresh without
		// the lock would send the refresh token read before it, which the
		// lock's holder may be exchanging
		return nil, EventFailed, typed(ctx, context.Cause(ctx))
	}
	// seen, not a new read: fromCache may have deleted a refused token
	// whose refresh token is the live one
	st, kind, err := t.fetch(ctx, t.refreshInput(cur, seen))
	if err == nil && st.bound == nil {
		t.toCache(ctx, st.tok) // a DPoP token's key never leaves the process
	}
	return st, kind, err
}

// refreshInput returns what Refresh renews: cur, or tok (what the cache
// held when last read under the lock) when it has another refresh token
// that this Transport has not renewed itself: a sharer renewed cur (or a
// later token) into it, so only its refresh token is still live at a
// provider that rotates them, whether or not tok can be used itself
// (expired, refused by a resource server), and whichever of the two looks
// issued first: Expiry less lifetime goes by the clock of whoever got the
// token, and a clock step back (or a sharer's clock behind ours) makes a
// newer token look older. A cached token with a refresh token this
// Transport renewed is older than cur (a store of cur failed).
func (t *Transport) refreshInput(cur *tokenState, tok *oauth2.Token) *tokenState {
	if cur == nil || cur.tok == nil || tok == nil || tok.RefreshToken == "" || keylessDPoP(tok) ||
		tok.RefreshToken == cur.tok.RefreshToken || t.wasExchanged(tok.RefreshToken) {
		return cur
	}
	return &tokenState{tok: tok, invalid: true}
}

// maxExchanged bounds how many renewed refresh tokens the Transport
// remembers (as hashes, never the tokens), for refreshInput.
const maxExchanged = 16

// exchange records that Refresh renewed refresh into a token with another
// refresh token: at a provider that rotates them it is spent.
func (t *Transport) exchange(refresh string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exchanged.add(refresh, maxExchanged)
}

// wasExchanged reports whether this Transport renewed refresh (see exchange).
func (t *Transport) wasExchanged(refresh string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exchanged.has(refresh)
}

// lockCache takes the shared cache's lock when it has one (CacheLocker), so
// that the sharers of one cache make one token request between them. A
// lock that fails or takes longer than lockWait is logged and skipped.
func (t *Transport) lockCache(ctx context.Context) (func(), bool) {
	l, ok := t.cfg.cache.(CacheLocker)
	if !ok {
		return nil, false
	}
	lctx, cancel := context.WithTimeout(ctx, min(maxLockWait, t.cfg.fetchTimeout/4))
	defer cancel()
	unlock, err := t.lockBounded(lctx, l)
	if err != nil {
		t.log(slog.LevelWarn, "token cache lock failed; requesting a token without it", slog.String("error", err.Error()))
		return nil, false
	}
	return func() {
		if err := unlock(); err != nil {
			t.log(slog.LevelWarn, "token cache unlock failed", slog.String("error", err.Error()))
		}
	}, true
}

// fromCache returns the cached token when it is usable and better than cur
// (another process or replica renewed it), or nil; and, either way, the
// token it read (for refreshInput). A cached token issued
// after cur is adopted even inside its own refresh-ahead window (its
// lifetime may be shorter than cur's): another sharer renewed cur with it,
// so cur's refresh token may already be exchanged, and Refresh must get the
// newest one. A token a resource
// server refused is never adopted again, and is deleted from the cache. A
// DPoP token without its key (a cache that serialises tokens drops it) is a
// miss: it can be sent neither with a proof nor as Bearer.
// Cache failures are logged and ignored: the cache is an optimisation,
// never a reason for a request to fail.
//
// A refused token is deleted only when del is set: under a CacheLocker's
// lock, by the sharer that then replaces it. Deleted before the lock, the
// cache would be empty while another sharer, still holding the token the
// refused one was renewed from, takes the lock first and refreshes with an
// exchanged refresh token (a provider that rotates them revokes the grant).
func (t *Transport) fromCache(ctx context.Context, cur *tokenState, del bool) (*tokenState, *oauth2.Token) {
	tok, err := t.cfg.cache.Load(ctx, t.cfg.cacheKey)
	if err != nil {
		t.log(slog.LevelWarn, "token cache load failed", slog.String("error", err.Error()))
		return nil, nil
	}
	return t.usableCached(ctx, tok, cur, del), tok
}

// usableCached is fromCache's judgement of tok, the cached token.
func (t *Transport) usableCached(ctx context.Context, tok *oauth2.Token, cur *tokenState, del bool) *tokenState {
	if tok == nil || tok.AccessToken == "" || keylessDPoP(tok) {
		return nil // a DPoP token without its key: a miss, never an error
	}
	if t.isRefused(tok.AccessToken) {
		if del {
			t.deleteCached(ctx, tok)
		}
		return nil
	}
	if cur != nil && cur.tok.AccessToken == tok.AccessToken {
		return nil // the token we are replacing
	}
	now := t.now()
	st, err := t.adopt(tok, now)
	if err != nil {
		t.log(slog.LevelWarn, "token cache holds an unusable token", slog.String("error", err.Error()))
		return nil
	}
	if !now.Before(st.staleAt) && cur != nil && !cur.invalid && !issuedAfter(st.tok, cur.tok) {
		return nil // no fresher than what we are renewing ahead of time
	}
	return st
}

// issuedAfter reports whether a was issued after b, going by Expiry less
// lifetime (tokens the Transport adopted carry ExpiresIn; see withLifetime).
func issuedAfter(a, b *oauth2.Token) bool {
	issued := func(tok *oauth2.Token) time.Time { return tok.Expiry.Add(-tokenLifetime(tok)) }
	return issued(a).After(issued(b))
}

// deleteCached removes a refused token from the cache, when it is still
// the one stored there.
func (t *Transport) deleteCached(ctx context.Context, tok *oauth2.Token) {
	if err := t.cfg.cache.Delete(ctx, t.cfg.cacheKey); err != nil {
		t.log(slog.LevelWarn, "token cache delete failed", slog.String("error", err.Error()))
		return
	}
	t.log(slog.LevelDebug, "refused token deleted from the token cache",
		slog.String("token", data.Fingerprint(tok.AccessToken)))
}

// lockBounded calls l.Lock, but waits for it only until ctx is done: a
// Lock that ignores ctx (against the CacheLocker contract) must not hold
// the token request. A lock obtained after that is released at once.
func (t *Transport) lockBounded(ctx context.Context, l CacheLocker) (func() error, error) {
	type result struct {
		unlock func() error
		err    error
	}
	ch := make(chan result, 1)
	go func() { // ends when Lock returns
		defer func() {
			if p := recover(); p != nil { // a panic in the cache is a failed lock, as on the caller's goroutine
				ch <- result{nil, &panicError{value: p}}
			}
		}()
		unlock, err := l.Lock(ctx, t.cfg.cacheKey)
		ch <- result{unlock, err}
	}()
	select {
	case r := <-ch:
		if pe, ok := r.err.(*panicError); ok {
			panic(pe.value) // recovered by obtainRecovered, like a panic of Load
		}
		return r.unlock, r.err
	case <-ctx.Done():
		go func() { // ends when the late Lock returns
			if r := <-ch; r.err == nil && r.unlock != nil {
				_ = r.unlock()
			}
		}()
		return nil, context.Cause(ctx)
	}
}

// toCache stores a new token; a failure is logged, not returned.
func (t *Transport) toCache(ctx context.Context, tok *oauth2.Token) {
	if err := t.cfg.cache.Store(ctx, t.cfg.cacheKey, tok); err != nil {
		t.log(slog.LevelWarn, "token cache store failed", slog.String("error", err.Error()))
	}
}
