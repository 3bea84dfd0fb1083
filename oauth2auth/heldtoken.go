package oauth2auth

import (
	"context"
	"errors"
	"sync"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// heldToken keeps the token of a token exchange's subject (or actor)
// between exchanges, getting it from src: Authorize the first time, Refresh
// once src.Expired says so or the exchange refused it. Two exchanges that
// find it stale at once may both renew it; the later result is kept.
type heldToken struct {
	role string // "subject" or "actor", for SubjectTokenError
	src  base.Authorizer

	mu  sync.Mutex    // guards tok
	tok *oauth2.Token // nil until the first fetch
}

// get returns the held token, renewing it when src says it is stale.
func (h *heldToken) get(ctx context.Context) (*oauth2.Token, error) {
	h.mu.Lock()
	cur := h.tok
	h.mu.Unlock()
	if cur != nil && !h.src.Expired(cur) {
		return cur, nil
	}
	return h.fetch(ctx, cur)
}

// renew replaces old, which the token endpoint refused, unless another
// exchange has replaced it already with a token that is not stale.
func (h *heldToken) renew(ctx context.Context, old *oauth2.Token) (*oauth2.Token, error) {
	h.mu.Lock()
	cur := h.tok
	h.mu.Unlock()
	if cur != nil && cur != old && !h.src.Expired(cur) {
		return cur, nil
	}
	return h.fetch(ctx, old)
}

// fetch gets a token from src: Refresh of cur when there is one (and
// Authorize when that refresh is refused, as the Transport does), else
// Authorize.
func (h *heldToken) fetch(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
	var tok *oauth2.Token
	var err error
	if cur != nil {
		tok, err = h.src.Refresh(ctx, cur)
		var refused *authorizer.InvalidCredentialsError
		if errors.As(err, &refused) {
			tok, err = h.src.Authorize(ctx)
		}
	} else {
		tok, err = h.src.Authorize(ctx)
	}
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errors.New("the authorizer returned no token")
	}
	if err != nil {
		return nil, &SubjectTokenError{Role: h.role, Err: err}
	}
	h.mu.Lock()
	h.tok = tok
	h.mu.Unlock()
	return tok, nil
}
