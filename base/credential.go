package base

import (
	"context"
	"errors"

	"github.com/seed-d44eba79/authorizer"
)

// Credential is one token as a [Transport] sends it, for protocols other
// than HTTP (package grpcauth): the Authorization value and API key to
// send, and the two answers a server can give about them. It is a small
// value, safe to copy and to use from many goroutines at once.
type Credential struct {
	t  *Transport
	st *tokenState
}

// Credential returns the token the Transport would send with a request
// now, from the same lifecycle as [Transport.RoundTrip] (refresh ahead,
// one shared token request, backoff); it waits at most until ctx is done.
// Errors are those of [Transport.Token]. The hot path (a valid token) does
// not allocate.
//
// A DPoP-bound token (RFC 9449) is refused with an
// [*authorizer.AuthorizationError] wrapping [errors.ErrUnsupported]: its
// every use needs a proof signed over an HTTP method and URL, which a call
// of another protocol has not, and sending it without one (or as Bearer)
// would fail or downgrade it. Such a token is sent by
// [Transport.RoundTrip] only.
func (t *Transport) Credential(ctx context.Context) (Credential, error) {
	if t.cfgErr != nil {
		return Credential{}, t.cfgErr
	}
	st, err := t.state(ctx)
	if err != nil {
		return Credential{}, err
	}
	if st.bound != nil {
		return Credential{}, &authorizer.AuthorizationError{Err: errors.ErrUnsupported,
			Message: "base: the token is DPoP-bound (RFC 9449): its proof signs an HTTP method and URL, which a call of another protocol (gRPC) has not; send it with Transport.RoundTrip"}
	}
	return Credential{t: t, st: st}, nil
}

// Authorization is the Authorization value, "Bearer " and the access
// token; it is a secret, never log it. "" for the zero Credential.
func (c Credential) Authorization() string {
	if c.st == nil {
		return ""
	}
	return c.st.header[0]
}

// APIKey is the X-Api-Key value the Transport sends ([WithAPIKey], or the
// Authorizer's [ClientInfoer]), or "" when it sends none.
func (c Credential) APIKey() string {
	if c.t == nil || c.t.apiKey == nil {
		return ""
	}
	return c.t.apiKey[0]
}

// Accepted records that a server accepted a call sent with c, as a non-401
// answer does for [Transport.RoundTrip].
func (c Credential) Accepted() {
	if c.st != nil {
		c.st.accept()
	}
}

// Refused retires c after a server refused it (gRPC Unauthenticated, like
// an HTTP 401): the token is never sent again, and if it is still the
// current one, the next [Transport.Credential] or request obtains a new
// token; however many calls report the same token, one token request
// replaces it. A token refused before any call with it was accepted counts
// toward the backoff, as for a 401. Refused on the zero Credential does
// nothing.
func (c Credential) Refused() {
	if c.st != nil {
		c.t.invalidate(c.st)
	}
}

// Same reports whether c and o carry the same token.
func (c Credential) Same(o Credential) bool {
	return c.st != nil && o.st != nil && c.st.tok.AccessToken == o.st.tok.AccessToken
}
