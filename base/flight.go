package base

import (
	"context"
	"errors"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"golang.org/x/oauth2"
)

// call is one token request shared by every caller that needs a token
// while it runs. done is closed once st or err is set.
type call struct {
	done chan struct{}
	st   *tokenState
	err  error
}

// launch starts a token request for old (nil when there is no token yet)
// on its own goroutine, and returns it. mu must be held.
//
// The request runs on a context detached from the caller that started it
// (context.WithoutCancel keeps its values, e.g. trace ids): when that
// caller gives up, the others still get the token. It has its own timeout,
// and Close cancels it.
func (t *Transport) launch(ctx context.Context, old *tokenState, background bool) *call {
	c := &call{done: make(chan struct{})}
	if t.closeCtx.Err() != nil {
		c.err = closedError()
		close(c.done)
		return c
	}
	t.flight = c
	t.busy.Store(true)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.fetchTimeout)
	stop := context.AfterFunc(t.closeCtx, cancel)
	t.wg.Add(1)
	go func() { // ends when the token request returns; Close waits for it
		defer t.wg.Done()
		defer cancel()
		defer stop()
		start := t.now()
		st, kind, err := t.obtain(fctx, old)
		t.finish(c, st, err)
		attempt := t.attempts(err)
		t.emit(Event{Kind: kind, Duration: t.now().Sub(start), Background: background,
			Expiry: expiryOf(st), Attempt: attempt, Err: err})
		if err != nil {
			t.emitBackoff(attempt, err)
		}
	}()
	return c
}

// finish publishes the outcome of c: a new current token, or a failure and
// the backoff that follows it.
func (t *Transport) finish(c *call, st *tokenState, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.st, c.err = st, err
	if err == nil {
		t.cur.Store(st)
		t.failures, t.lastErr = 0, nil
		t.retryAt.Store(0)
	} else {
		t.failures++
		t.lastErr = err
		now := t.now()
		next := now.Add(t.backoff(err))
		if !hasRetryAfter(err) {
			next = beforeExpiry(now, next, t.cur.Load(), t.cfg.minBackoff)
		}
		t.retryAt.Store(next.UnixNano())
	}
	t.flight = nil
	t.busy.Store(false)
	close(c.done)
}

// obtain gets a new token: from the cache when it holds a better one than
// old, else with Refresh (old exists) or Authorize (none), falling back to
// Authorize once when Refresh is refused as bad credentials.
func (t *Transport) obtain(ctx context.Context, old *tokenState) (*tokenState, EventKind, error) {
	if t.cfg.cache != nil {
		unlock, err := t.lockCache(ctx)
		if err != nil {
			return nil, EventFailed, err
		}
		defer unlock()
		if st := t.fromCache(ctx, old); st != nil {
			return st, EventCacheHit, nil
		}
	}
	tok, kind, err := t.request(ctx, old)
	if err != nil {
		return nil, EventFailed, err
	}
	if t.cfg.cache != nil {
		t.toCache(ctx, tok)
	}
	return newTokenState(tok, t.cfg.refreshAhead, t.now()), kind, nil
}

// request calls the Authorizer.
func (t *Transport) request(ctx context.Context, old *tokenState) (*oauth2.Token, EventKind, error) {
	kind := EventFetched
	var tok *oauth2.Token
	var err error
	if old != nil && old.tok != nil {
		kind = EventRefreshed
		tok, err = t.a.Refresh(ctx, old.tok)
		var ice *authorizer.InvalidCredentialsError
		if errors.As(err, &ice) {
			kind = EventFetched
			tok, err = t.a.Authorize(ctx)
		}
	} else {
		tok, err = t.a.Authorize(ctx)
	}
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = &authorizer.AuthorizationError{Message: "base: the authorizer returned no access token"}
	}
	if err != nil {
		return nil, kind, typed(err)
	}
	return tok, kind, nil
}

// typed makes sure a custom Authorizer's plain error reaches callers as an
// *authorizer.AuthorizationError (wrapping it), so every failure is typed.
func typed(err error) error {
	var ae *authorizer.AuthorizationError
	var ice *authorizer.InvalidClientError
	var icr *authorizer.InvalidCredentialsError
	if errors.As(err, &ae) || errors.As(err, &ice) || errors.As(err, &icr) {
		return err
	}
	return &authorizer.AuthorizationError{Message: "base: token request failed", Err: err}
}

func expiryOf(st *tokenState) time.Time {
	if st == nil {
		return time.Time{}
	}
	return st.tok.Expiry
}

// attempts returns the count of consecutive failures after err (0 on
// success), for events.
func (t *Transport) attempts(err error) int {
	if err == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures
}
