package base

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// Transport is an [http.RoundTripper] that sends every request with a valid
// token from an [Authorizer], and keeps that token fresh (see the package
// doc for the lifecycle).
//
// A Transport is safe for concurrent use by multiple goroutines. Create one
// per Authorizer and reuse it. Close it when done: that cancels a token
// request in flight and fails later requests with [authorizer.ErrClosed]. A
// Transport that is never closed leaks nothing: it starts a goroutine only
// for a token request, which ends with it, and it refreshes only when a
// request needs a token (there is no timer); an unclosed Transport merely
// lets such a request run to its end (at most [WithFetchTimeout]).
//
// Printing a Transport (fmt, slog, encoding/json) shows its configuration
// with the API key redacted, never a token.
type Transport struct {
	a      Authorizer
	cfg    config
	cfgErr error    // an invalid option or Authorizer: every call fails with it
	apiKey []string // X-Api-Key header value, or nil

	// cur is the token in use, or nil before the first. The hot path is a
	// load of cur and a time comparison.
	cur atomic.Pointer[tokenState]
	// closed is set by Close; checked by every request without a lock.
	closed atomic.Bool

	// busy is set while a token request is in flight, and retryAt holds
	// the earliest time of the next one after a failure, as nanoseconds
	// since start (noRetryAt when none): both let a request in the
	// refresh-ahead window skip mu.
	busy    atomic.Bool
	retryAt atomic.Int64
	start   time.Time // the clock reading deadlines are offsets from
	// realClock: the clock is time.Now, so elapsed reads only the
	// monotonic clock (time.Since), half the cost of time.Now.
	realClock bool

	mu        sync.Mutex // guards flight, failures, lastErr, refused, exchanged
	flight    *call      // the token request in progress, or nil
	failures  int        // consecutive failed token requests
	lastErr   error      // the last failure, wrapped by backoff errors
	refused   recent     // access tokens a resource server refused, at most maxRefused
	exchanged recent     // refresh tokens this Transport renewed, at most maxExchanged

	// nonces holds the newest DPoP nonce of each resource server a DPoP
	// token was sent to (RFC 9449 §9); it is safe for concurrent use.
	nonces dpop.Nonces

	closeCtx context.Context    // done once Close is called
	closeFn  context.CancelFunc // cancels closeCtx
	wg       sync.WaitGroup     // token-request goroutines; Close waits (bounded)
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns a Transport that authorizes requests with a, or an
// [*authorizer.InvalidConfigError] naming the option (or the Authorizer)
// that cannot be used. Each option's doc says which values are valid.
func New(a Authorizer, opts ...Option) (*Transport, error) {
	t := NewTransport(a, opts...)
	if t.cfgErr != nil {
		return nil, t.cfgErr
	}
	return t, nil
}

// NewTransport is [New] for callers that do not check errors at
// construction: with a nil Authorizer or an invalid option, every RoundTrip
// and Token of the returned Transport fails with that
// [*authorizer.InvalidConfigError]. Call [Transport.Token] at start-up to
// find such mistakes (and a misconfigured provider) early.
func NewTransport(a Authorizer, opts ...Option) *Transport {
	t := &Transport{a: a, cfg: newConfig(opts)}
	t.cfgErr = t.cfg.err
	if a == nil && t.cfgErr == nil {
		t.cfgErr = &authorizer.InvalidConfigError{Setting: "base: Authorizer", Problem: "is nil"}
	}
	t.start = t.now()
	t.realClock = t.cfg.realClock
	t.retryAt.Store(noRetryAt)
	t.closeCtx, t.closeFn = context.WithCancel(context.Background())
	key := t.cfg.apiKey
	if ci, ok := a.(ClientInfoer); ok && key == "" {
		key = ci.ClientInfo().APIKey
	}
	if key != "" {
		t.apiKey = []string{key}
	}
	return t
}

// NewClient returns an [*http.Client] whose Transport is
// NewTransport(a, opts...); see [NewTransport] for invalid options. Close
// its Transport when done:
//
//	client := base.NewClient(authz)
//	defer client.Transport.(*base.Transport).Close()
func NewClient(a Authorizer, opts ...Option) *http.Client {
	return &http.Client{Transport: NewTransport(a, opts...)}
}

// Token returns a valid token, obtaining one if needed. It waits at most
// until ctx is done; the token request it may start goes on for other
// callers. It never waits on a refresh while the current token is usable.
//
// A service calls Token once at start-up to fail fast on configuration: a
// wrong issuer, client or secret then surfaces as a typed error
// ([*authorizer.InvalidClientError], [*authorizer.AuthorizationError], or
// [*authorizer.InvalidConfigError] for an invalid option) before the first
// request, instead of backing off like an outage later.
func (t *Transport) Token(ctx context.Context) (*oauth2.Token, error) {
	if t.cfgErr != nil {
		return nil, t.cfgErr
	}
	st, err := t.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.tok, nil
}

// Close stops the Transport: requests after Close fail with
// [authorizer.ErrClosed] and never reach the inner RoundTripper, callers
// waiting for a token get ErrClosed, and a token request in flight is
// cancelled. Close waits for that request's goroutine to end, but at most
// 2 seconds: an Authorizer that ignores ctx (e.g.
// [FromTokenSource]) may finish its call after Close has returned, and its
// result is then dropped. Close is idempotent and always returns nil.
func (t *Transport) Close() error {
	// Set closed and cancel under mu: join checks closed before launch
	// calls wg.Add under mu, so no goroutine is added once Wait may start.
	t.mu.Lock()
	t.closed.Store(true)
	t.closeFn()
	t.mu.Unlock()
	done := make(chan struct{})
	go func() { // ends when the last token request does
		t.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(t.cfg.closeWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.log(slog.LevelWarn, "Close did not wait for a token request that ignores its context")
	}
	return nil
}

// CloseIdleConnections closes the idle connections of the inner
// RoundTripper, when it has such a method
// ([http.Client.CloseIdleConnections] calls this).
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.cfg.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip implements [http.RoundTripper]: it sends req with the current
// token, and once more with a new one if the server answers 401 to a token
// that is still current. It does not modify req. When no new token can be
// had after a 401 (the token request fails, or backs off), the caller gets
// the original 401 response, not an error.
//
// A DPoP-bound token goes with a new proof for req (see the package doc);
// a proof that cannot be signed for req (its method is not an HTTP token,
// its URL has no host) fails the request with an
// [*authorizer.AuthorizationError] before anything is sent.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cfgErr != nil {
		closeBody(req)
		return nil, t.cfgErr
	}
	attach, err := t.policy(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if !attach {
		if t.closed.Load() {
			closeBody(req)
			return nil, closedError()
		}
		return t.cfg.next.RoundTrip(t.withCredentials(req, nil))
	}
	st, err := t.state(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if st.bound != nil {
		return t.roundTripDPoP(req, st)
	}
	resp, err := t.cfg.next.RoundTrip(t.withCredentials(req, st))
	if err != nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		st.accept()
		return resp, nil
	}
	return t.retryUnauthorized(req, st, resp)
}

// withCredentials returns a shallow copy of req with a new header map that
// carries st's token and the API key (none when st is nil). Every case
// variant of the headers it sets (or, with st nil, of both) is removed
// first, so a caller's "authorization" never travels beside the SDK's. The
// header values are shared with req, which the RoundTripper contract allows
// since neither is modified.
func (t *Transport) withCredentials(req *http.Request, st *tokenState) *http.Request {
	r2 := new(http.Request)
	*r2 = *req
	// maps.Clone copies the table without re-hashing each key.
	h := maps.Clone(req.Header)
	if h == nil {
		h = make(http.Header, 2)
	}
	apiKey := st == nil || t.apiKey != nil
	for k := range h {
		if isCredential(k, apiKey) {
			delete(h, k)
		}
	}
	if st != nil {
		h[data.AuthorizationHeader] = st.header
		if t.apiKey != nil {
			h[data.APIKeyHeader] = t.apiKey
		}
	}
	r2.Header = h
	return r2
}

// isCredential reports whether header key k names Authorization, or
// X-Api-Key when apiKey is set, in any case. Keep it small enough to be
// inlined: it runs for every header of every request.
func isCredential(k string, apiKey bool) bool {
	switch len(k) {
	case len(data.AuthorizationHeader):
		return equalFoldASCII(k, data.AuthorizationHeader)
	case len(data.APIKeyHeader):
		return apiKey && equalFoldASCII(k, data.APIKeyHeader)
	}
	return false
}

// equalFoldASCII is strings.EqualFold for an ASCII b of the same length.
func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}

// closeBody closes req's body, as a RoundTripper must on every error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// closedError is returned by requests after Close.
func closedError() error {
	return &authorizer.AuthorizationError{Message: "base: no token", Err: authorizer.ErrClosed}
}

// now reads the Transport's clock.
func (t *Transport) now() time.Time { return t.cfg.now() }

// elapsed is the Transport's clock as an offset from t.start: on the
// monotonic clock with time.Now, and cheaper than now.
func (t *Transport) elapsed() int64 {
	if t.realClock {
		return int64(time.Since(t.start))
	}
	return t.since(t.now())
}
