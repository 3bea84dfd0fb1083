package base

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// maxShownType bounds how much of a refused token type an error quotes.
const maxShownType = 32

// adopt checks a token from the Authorizer or the cache and prepares it for
// the hot path. It refuses, with an *authorizer.AuthorizationError, a
// missing token, a token type other than Bearer or DPoP (RFC 6749 §7.1: a
// client must not use a token type it does not understand), a DPoP token
// that does not carry its key ([dpop.KeyOf]; it could be sent neither with
// a proof nor as Bearer), an access token that is not an RFC 6750
// b64token (so not a valid header value), and a token that
// Authorizer.Expired calls expired at birth. A refused token is never
// cached, and the token request that produced it counts as failed.
func (t *Transport) adopt(tok *oauth2.Token, now time.Time) (*tokenState, error) {
	if err := checkToken(tok); err != nil {
		return nil, err
	}
	tok = withLifetime(tok, now)
	if t.a.Expired(tok) {
		return nil, &authorizer.AuthorizationError{Message: "base: the new token is already expired"}
	}
	st := newTokenState(tok, t.cfg.refreshAhead, now)
	st.staleIn = math.MaxInt64
	if !st.noExpiry {
		st.staleIn = addSat(t.since(now), int64(st.staleAt.Sub(now)))
	}
	return st, nil
}

// checkToken refuses a token the Transport must not send.
func checkToken(tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return &authorizer.AuthorizationError{Message: "base: the authorizer returned no access token"}
	}
	if keylessDPoP(tok) {
		return keylessError()
	}
	if typ := tok.TokenType; typ != "" && !strings.EqualFold(typ, "bearer") && !dpop.IsDPoP(tok) {
		if len(typ) > maxShownType {
			typ = typ[:maxShownType]
		}
		return &authorizer.AuthorizationError{
			Message: fmt.Sprintf("base: token type %q is not supported (only Bearer, and DPoP bound to a key)", typ)}
	}
	if !isB64Token(tok.AccessToken) {
		return &authorizer.AuthorizationError{
			Message: "base: the access token is not an RFC 6750 b64token (it holds bytes not allowed in a header)"}
	}
	return nil
}

// isB64Token reports whether s is an RFC 6750 §2.1 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// addSat is a+b, saturated at the bounds of int64: a token that expires in
// year 9999 has a stale point beyond any offset, not one overflowed into
// the past (which made every request start a refresh).
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	if b < 0 && a < math.MinInt64-b {
		return math.MinInt64
	}
	return a + b
}
