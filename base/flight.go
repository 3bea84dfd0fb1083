package base

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
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

// launch starts a token request to replace cur (the current state, nil
// when there is no token yet) on its own goroutine, and returns it. mu must
// be held, and the Transport must not be closed.
//
// The request runs on a context detached from the caller that started it
// (context.WithoutCancel keeps its values, e.g. trace ids): when that
// caller gives up, the others still get the token. It has its own timeout
// (whose cause, [authorizer.ErrTimeout], makes running out of it temporary),
// and Close cancels it.
func (t *Transport) launch(ctx context.Context, cur *tokenState, background bool) *call {
	c := &call{done: make(chan struct{})}
	t.flight = c
	t.busy.Store(true)
	fctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), t.cfg.fetchTimeout, authorizer.ErrTimeout)
	stop := context.AfterFunc(t.closeCtx, cancel)
	t.wg.Add(1)
	go func() { // ends when the token request returns; Close waits for it (bounded)
		defer t.wg.Done()
		defer cancel()
		defer stop()
		start := t.now()
		st, kind, err := t.obtainRecovered(fctx, cur)
		attempt := t.finish(c, st, err)
		t.emit(Event{Kind: kind, Duration: t.now().Sub(start), Background: background,
			Expiry: expiryOf(st), Attempt: attempt, Err: err})
		if err != nil {
			t.emitBackoff(attempt, err)
		}
	}()
	return c
}

// finish publishes the outcome of c: a new current token, or a failure and
// the backoff that follows it. It returns the count of consecutive failures.
func (t *Transport) finish(c *call, st *tokenState, err error) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		st.prior = t.failures
		t.cur.Store(st)
		t.failures, t.lastErr = 0, nil
		t.retryAt.Store(0)
	} else {
		t.recordFailure(err, t.failures+1, t.now())
	}
	c.st, c.err = st, err
	t.flight = nil
	t.busy.Store(false)
	close(c.done)
	return t.failures
}

// obtainRecovered is obtain with a panic in the Authorizer or the cache
// (which run on this goroutine, where no caller's recover can see them)
// turned into a failed token request: it is logged with its stack (to
// slog.Default when no WithLogger was given), the waiters get a typed
// error, and the Transport stays usable. The log names the panic value's
// type only: the value may hold a secret.
func (t *Transport) obtainRecovered(ctx context.Context, cur *tokenState) (st *tokenState, kind EventKind, err error) {
	defer func() {
		if p := recover(); p != nil {
			logger := t.cfg.logger
			if logger == nil {
				logger = slog.Default() // a panic is always worth a log line
			}
			logger.LogAttrs(context.Background(), slog.LevelError, "authorizer: token request panicked",
				slog.String("panic", fmt.Sprintf("%T", p)), slog.String("stack", string(debug.Stack())))
			st, kind = nil, EventFailed
			err = &authorizer.AuthorizationError{Message: "base: the token request panicked", Err: &panicError{value: p}}
		}
	}()
	return t.obtain(ctx, cur)
}

// panicError carries a recovered panic's value to the waiters. Its message
// names the value's type only: the value may hold anything, secrets too.
type panicError struct{ value any }

func (e *panicError) Error() string {
	return fmt.Sprintf("panic of type %T (see the log for the stack)", e.value)
}

// fetch asks the Authorizer for a token to replace cur, and checks it.
func (t *Transport) fetch(ctx context.Context, cur *tokenState) (*tokenState, EventKind, error) {
	tok, kind, err := t.request(ctx, cur)
	if err != nil {
		return nil, EventFailed, err
	}
	if tok != nil && t.isRefused(tok.AccessToken) {
		// A source that hands out the same token until it expires
		// (oauth2.ReuseTokenSource, StaticTokenSource, some providers):
		// the refused token is never sent again, and the request counts as
		// failed, so asking again backs off.
		return nil, EventFailed, &authorizer.AuthorizationError{
			Message: "base: the authorizer returned a token a resource server already refused"}
	}
	st, err := t.adopt(tok, t.now())
	if err != nil {
		t.keepRotatedRefreshToken(ctx, cur, tok)
		return nil, EventFailed, err
	}
	return st, kind, nil
}

// keepRotatedRefreshToken keeps the refresh token of a token that adopt
// refused (expired at birth, say) when cur is still the current token: at
// a provider that rotates refresh tokens it is the only live one, and the
// next Refresh must use it, not cur's, which the provider has exchanged
// (reusing it revokes the grant). cur's access token goes on being used.
//
// With a shared cache (Bearer tokens) cur's token with the new refresh
// token is stored there too, under the lock the request holds, so that the
// sharers refresh with it (see refreshInput).
func (t *Transport) keepRotatedRefreshToken(ctx context.Context, cur *tokenState, tok *oauth2.Token) {
	if cur == nil || cur.tok == nil || tok == nil || tok.RefreshToken == "" || tok.RefreshToken == cur.tok.RefreshToken {
		return
	}
	if checkToken(tok) != nil {
		return // not a token at all: its refresh token is not trusted either
	}
	t.mu.Lock()
	// the current state, whichever copy of cur it is by now (a 401 may
	// have retired it meanwhile: it stays retired, with the new refresh
	// token)
	now := t.cur.Load()
	swapped := false
	if now != nil && now.tok.AccessToken == cur.tok.AccessToken && now.tok.RefreshToken == cur.tok.RefreshToken {
		c := *now
		rt := *now.tok
		rt.RefreshToken = tok.RefreshToken
		c.tok = &rt
		swapped = t.cur.CompareAndSwap(now, &c)
		now = &c
	}
	t.mu.Unlock()
	if swapped && t.cfg.cache != nil && now.bound == nil {
		t.toCache(ctx, now.tok)
	}
}

// request calls the Authorizer: Refresh with the newest token when there is
// one, else Authorize; falling back to Authorize once when Refresh is
// refused as bad credentials.
func (t *Transport) request(ctx context.Context, cur *tokenState) (*oauth2.Token, EventKind, error) {
	kind := EventFetched
	var tok *oauth2.Token
	var err error
	if cur != nil && cur.tok != nil {
		kind = EventRefreshed
		tok, err = t.a.Refresh(ctx, cur.tok)
		if err == nil && tok != nil && tok.RefreshToken != "" && tok.RefreshToken != cur.tok.RefreshToken {
			t.exchange(cur.tok.RefreshToken)
		}
		var ice *authorizer.InvalidCredentialsError
		if errors.As(err, &ice) {
			kind = EventFetched
			tok, err = t.a.Authorize(ctx)
		}
	} else {
		tok, err = t.a.Authorize(ctx)
	}
	if err != nil {
		return nil, kind, typed(ctx, err)
	}
	return tok, kind, nil
}

// typed makes sure a custom Authorizer's plain error reaches callers as an
// *authorizer.AuthorizationError, and that a token request cut short by
// the Transport's own fetch timeout says so ([authorizer.ErrTimeout] in the
// chain, so Temporary reports it) even when the Authorizer returned only
// ctx.Err().
func typed(ctx context.Context, err error) error {
	if context.Cause(ctx) == authorizer.ErrTimeout && !errors.Is(err, authorizer.ErrTimeout) {
		return &authorizer.AuthorizationError{Message: "base: token request timed out (see WithFetchTimeout)",
			Err: fmt.Errorf("%w: %w", authorizer.ErrTimeout, err)}
	}
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
