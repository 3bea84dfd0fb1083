package base

import (
	"math/rand/v2"
	"time"

	"golang.org/x/oauth2"
)

// tokenState is one token as the Transport uses it, with everything the hot
// path needs precomputed. It is immutable once published in Transport.cur.
type tokenState struct {
	tok *oauth2.Token
	// header is the Authorization header value, {"<type> <token>"}, shared
	// by every request that sends this token.
	header []string
	// staleAt is when the refresh-ahead window begins; before it the token
	// is used with no further check.
	staleAt time.Time
	// noExpiry: the token has no Expiry, so only Expired can retire it.
	noExpiry bool
	// invalid: a resource server refused the token (401); it is never
	// sent again and serves only as the input of Refresh.
	invalid bool
}

// farFuture is a staleAt that never comes.
var farFuture = time.Unix(1<<62, 0)

// newTokenState prepares tok for the hot path. ahead caps how early before
// expiry the background refresh starts: min(ahead, lifetime/2), less up to
// a tenth of that as jitter so that replicas sharing a token spread out.
func newTokenState(tok *oauth2.Token, ahead time.Duration, now time.Time) *tokenState {
	st := &tokenState{tok: tok, header: []string{tok.Type() + " " + tok.AccessToken}}
	if tok.Expiry.IsZero() {
		st.staleAt, st.noExpiry = farFuture, true
		return st
	}
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = tok.Expiry.Sub(now)
	}
	lead := min(ahead, lifetime/2)
	if lead > 0 {
		lead += rand.N(lead/10 + 1)
	}
	st.staleAt = tok.Expiry.Add(-max(lead, 0))
	return st
}

// invalidated returns a copy of st marked as refused by a resource server.
func (st *tokenState) invalidated() *tokenState {
	c := *st
	c.invalid, c.staleAt = true, time.Time{}
	return &c
}

// hardValid reports whether st's token may still be sent as a last resort
// (token requests failing): it was not refused and has not reached its
// actual expiry.
func (st *tokenState) hardValid(now time.Time) bool {
	return st != nil && !st.invalid && (st.noExpiry || now.Before(st.tok.Expiry))
}
