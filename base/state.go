package base

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// tokenState is one token as the Transport uses it, with everything the hot
// path needs precomputed. It is immutable once published in Transport.cur.
type tokenState struct {
	tok *oauth2.Token
	// header is the Authorization header value, {"Bearer <token>"} (or
	// {"DPoP <token>"} for a DPoP-bound token), shared by every request
	// that sends this token.
	header []string
	// bound is the key and access token hash of a DPoP-bound token, which
	// goes with a new proof per request (see dpop.go); nil for Bearer.
	bound *binding
	// staleAt is the earlier of the refresh-ahead point and the start of
	// the expiration gap; before it the token is used with no further
	// check, from it on Authorizer.Expired is consulted.
	staleAt time.Time
	// staleIn is staleAt as an offset from Transport.start (see
	// Transport.elapsed), for the hot path; set by adopt.
	staleIn int64
	// noExpiry: the token has no Expiry, so only Expired can retire it.
	noExpiry bool
	// invalid: a resource server refused the token (401); it is never
	// sent again and serves only as the input of Refresh.
	invalid bool
	// accepted is set once a resource server answered a request sent with
	// the token with anything but 401: a token refused before that was
	// useless at once, one refused after it was revoked. Shared by the
	// copies invalidated makes.
	accepted *atomic.Bool
	// prior is the count of consecutive failed token requests before the
	// one that produced this token: a token useless at once resumes it.
	prior int
}

// farFuture is a staleAt that never comes.
var farFuture = time.Unix(1<<62, 0)

// newTokenState prepares tok for the hot path; tok has been through
// withLifetime. The refresh-ahead point is min(ahead, lifetime/2) before
// expiry, moved earlier at random by up to a tenth of that lead so that
// replicas sharing a token spread out; staleAt is that point or the start
// of the expiration gap (data.EffectiveGap of the same lifetime that
// TokenExpired uses), whichever comes first.
func newTokenState(tok *oauth2.Token, ahead time.Duration, now time.Time) *tokenState {
	scheme, bound := "Bearer ", bindingOf(tok)
	if bound != nil {
		scheme = dpop.TokenType + " "
	}
	st := &tokenState{tok: tok, header: []string{scheme + tok.AccessToken}, bound: bound, accepted: new(atomic.Bool)}
	if tok.Expiry.IsZero() {
		st.staleAt, st.noExpiry = farFuture, true
		return st
	}
	lifetime := tokenLifetime(tok)
	lead := min(ahead, lifetime/2)
	if lead > 0 {
		lead += rand.N(lead/10 + 1)
	}
	refreshAt := tok.Expiry.Add(-max(lead, 0))
	gapAt := tok.Expiry.Add(-data.EffectiveGap(lifetime))
	st.staleAt = refreshAt
	if gapAt.Before(refreshAt) {
		st.staleAt = gapAt
	}
	return st
}

// tokenLifetime is the one lifetime rule of this package, shared by
// TokenExpired and the refresh-ahead point: tok.ExpiresIn, which the
// Transport fills in from Expiry when a token arrives without it (see
// withLifetime); zero when unknown.
func tokenLifetime(tok *oauth2.Token) time.Duration {
	return time.Duration(tok.ExpiresIn) * time.Second
}

// withLifetime returns tok, or a copy of it with ExpiresIn set from its
// Expiry when it has an Expiry but no ExpiresIn (what many
// oauth2.TokenSources return), so that TokenExpired and the refresh-ahead
// point agree on its lifetime.
func withLifetime(tok *oauth2.Token, now time.Time) *oauth2.Token {
	if tok.ExpiresIn != 0 || tok.Expiry.IsZero() {
		return tok
	}
	secs := int64(tok.Expiry.Sub(now) / time.Second)
	if secs <= 0 {
		return tok
	}
	c := *tok
	c.ExpiresIn = secs
	return &c
}

// accept records that a resource server accepted st's token. The load
// keeps the common case (already accepted) free of writes to shared memory.
func (st *tokenState) accept() {
	if !st.accepted.Load() {
		st.accepted.Store(true)
	}
}

// invalidated returns a copy of st marked as refused by a resource server.
func (st *tokenState) invalidated() *tokenState {
	c := *st
	c.invalid, c.staleAt, c.staleIn = true, time.Time{}, math.MinInt64
	return &c
}

// hardValid reports whether st's token may still be sent as a last resort
// (token requests failing): it was not refused and has not reached its
// actual expiry.
func (st *tokenState) hardValid(now time.Time) bool {
	return st != nil && !st.invalid && (st.noExpiry || now.Before(st.tok.Expiry))
}
