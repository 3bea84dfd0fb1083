package base

import (
	"context"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// Transport is an http.RoundTripper that authorizes every request with the
// token of an Authorizer. (Temporary simple implementation; replaced by the
// lifecycle engine.)
type Transport struct {
	a   Authorizer
	cfg config
	mu  sync.Mutex
	tok *oauth2.Token
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that applies a to every request.
func NewTransport(a Authorizer, opts ...Option) *Transport {
	return &Transport{a: a, cfg: newConfig(opts)}
}

// NewClient returns an *http.Client whose Transport is NewTransport(a, opts...).
func NewClient(a Authorizer, opts ...Option) *http.Client {
	return &http.Client{Transport: NewTransport(a, opts...)}
}

// Token returns the current valid token.
func (t *Transport) Token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && !t.a.Expired(t.tok) {
		return t.tok, nil
	}
	var tok *oauth2.Token
	var err error
	if t.tok != nil {
		tok, err = t.a.Refresh(ctx, t.tok)
	} else {
		tok, err = t.a.Authorize(ctx)
	}
	if err != nil {
		return nil, err
	}
	t.tok = tok
	return tok, nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.Token(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	if ci, ok := t.a.(ClientInfoer); ok && ci.ClientInfo().APIKey != "" {
		r2.Header.Set("X-Api-Key", ci.ClientInfo().APIKey)
	}
	return t.cfg.next.RoundTrip(r2)
}

// Close stops background work.
func (t *Transport) Close() error { return nil }
