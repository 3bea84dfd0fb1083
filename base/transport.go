package base

import (
	"context"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// Transport is an http.RoundTripper that sends every request with a valid
// token from an Authorizer, and keeps that token fresh (see the package doc
// for the lifecycle).
//
// A Transport is safe for concurrent use by multiple goroutines. Create one
// per Authorizer and reuse it; call Close when done to stop its background
// work.
type Transport struct {
	a      Authorizer
	cfg    config
	apiKey []string // X-Api-Key header value, or nil

	// cur is the token in use, or nil before the first. The hot path is a
	// load of cur and a time comparison.
	cur atomic.Pointer[tokenState]

	// busy is set while a token request is in flight, and retryAt holds
	// the earliest time (UnixNano) of the next one after a failure; both
	// let a request in the refresh-ahead window skip mu.
	busy    atomic.Bool
	retryAt atomic.Int64

	mu       sync.Mutex // guards flight, failures, lastErr
	flight   *call      // the token request in progress, or nil
	failures int        // consecutive failed token requests
	lastErr  error      // the last failure, wrapped by backoff errors

	closeCtx context.Context    // done once Close is called
	closeFn  context.CancelFunc // cancels closeCtx
	wg       sync.WaitGroup     // token-request goroutines; Close waits
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that authorizes requests with a.
func NewTransport(a Authorizer, opts ...Option) *Transport {
	t := &Transport{a: a, cfg: newConfig(opts)}
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

// NewClient returns an *http.Client whose Transport is NewTransport(a,
// opts...). Close its Transport (client.Transport.(*base.Transport)) to stop
// background work, or use NewTransport directly.
func NewClient(a Authorizer, opts ...Option) *http.Client {
	return &http.Client{Transport: NewTransport(a, opts...)}
}

// Token returns a valid token, obtaining one if needed. It waits at most
// until ctx is done; the token request it may start goes on for other
// callers. It never waits on a refresh while the current token is usable.
func (t *Transport) Token(ctx context.Context) (*oauth2.Token, error) {
	st, err := t.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.tok, nil
}

// Close stops the Transport's background work, cancels a token request in
// flight and waits for its goroutine to end. Requests after Close fail with
// authorizer.ErrClosed. Close is idempotent and always returns nil.
func (t *Transport) Close() error {
	// Cancel under mu: launch checks closeCtx and calls wg.Add under mu, so
	// no goroutine can be added once Wait may have started.
	t.mu.Lock()
	t.closeFn()
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// CloseIdleConnections closes the idle connections of the base
// RoundTripper, when it has such a method (http.Client.CloseIdleConnections
// calls this).
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.cfg.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper: it sends req with the current
// token, and once more with a new one if the server answers 401 to a token
// that is still current. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	attach, err := t.policy(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if !attach {
		return t.cfg.next.RoundTrip(t.withCredentials(req, nil))
	}
	st, err := t.state(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.cfg.next.RoundTrip(t.withCredentials(req, st))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	return t.retryUnauthorized(req, st, resp)
}

// withCredentials returns a shallow copy of req with a new header map that
// carries st's token and the API key (none when st is nil). The header
// values are shared with req, which the RoundTripper contract allows since
// neither is modified.
func (t *Transport) withCredentials(req *http.Request, st *tokenState) *http.Request {
	r2 := new(http.Request)
	*r2 = *req
	// maps.Clone copies the table without re-hashing each key.
	h := maps.Clone(req.Header)
	if h == nil {
		h = make(http.Header, 2)
	}
	if st != nil {
		h[data.AuthorizationHeader] = st.header
		if t.apiKey != nil {
			h[data.APIKeyHeader] = t.apiKey
		}
	} else {
		delete(h, data.AuthorizationHeader)
		delete(h, data.APIKeyHeader)
	}
	r2.Header = h
	return r2
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
