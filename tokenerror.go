package authorizer

import (
	"errors"
	"strings"
)

// TokenReason says why a received token was refused; see
// [InvalidTokenError]. Each reason has a sentinel error for errors.Is
// ([ErrTokenMalformed], [ErrTokenExpired], …).
type TokenReason int

// The reasons a token is refused.
const (
	// TokenMalformed: not a compact JWS of three segments, too large, bad
	// base64 or JSON, a duplicate or odd-typed claim, a header parameter that
	// is not accepted (jku, x5u, jwk, x5c, crit, zip).
	TokenMalformed TokenReason = iota + 1
	// TokenSignature: the signature does not verify with the selected key.
	TokenSignature
	// TokenAlgorithm: alg is none, HMAC, unknown, or does not fit the key.
	TokenAlgorithm
	// TokenUnknownKey: no key of the key set fits the token's kid.
	TokenUnknownKey
	// TokenExpired: exp is in the past beyond the leeway, or missing.
	TokenExpired
	// TokenNotYetValid: nbf or iat is in the future beyond the leeway.
	TokenNotYetValid
	// TokenIssuer: iss is missing or not the expected issuer.
	TokenIssuer
	// TokenAudience: aud (or Cognito's client_id) is missing or not expected.
	TokenAudience
	// TokenUse: Cognito's token_use is missing or not the expected one.
	TokenUse
	// TokenScope: the token lacks a scope the route requires.
	TokenScope
	// TokenDPoPProof: the DPoP proof (RFC 9449 §4) is missing, more than
	// one, malformed, badly signed, of an algorithm not accepted, signed
	// by a key other than the one the token is bound to, or does not match
	// the request (htm, htu, iat, ath).
	TokenDPoPProof
	// TokenDPoPReplay: the proof's jti was seen before within the proof
	// window (a replayed proof).
	TokenDPoPReplay
	// TokenDPoPNonce: the server requires a DPoP nonce (RFC 9449 §9) and
	// the proof has none, or a stale or wrong one; the client should retry
	// with the DPoP-Nonce the server sent.
	TokenDPoPNonce
	// TokenDPoPBinding: a token bound to a key (cnf.jkt) was presented as
	// a bearer token, a token bound to no key was presented as DPoP, a
	// token bound to a client certificate (cnf x5t#S256, RFC 8705) came
	// without it, or a token is bound by a confirmation method the
	// verifier does not check.
	TokenDPoPBinding
)

// Sentinel errors, one per [TokenReason], for errors.Is on an
// [InvalidTokenError].
var (
	ErrTokenMalformed   = errors.New("authorizer: token is malformed")
	ErrTokenSignature   = errors.New("authorizer: token signature is invalid")
	ErrTokenAlgorithm   = errors.New("authorizer: token algorithm is not accepted")
	ErrTokenUnknownKey  = errors.New("authorizer: token key is unknown")
	ErrTokenExpired     = errors.New("authorizer: token is expired")
	ErrTokenNotYetValid = errors.New("authorizer: token is not yet valid")
	ErrTokenIssuer      = errors.New("authorizer: token issuer is not accepted")
	ErrTokenAudience    = errors.New("authorizer: token audience is not accepted")
	ErrTokenUse         = errors.New("authorizer: token use is not accepted")
	ErrTokenScope       = errors.New("authorizer: token lacks a required scope")
	ErrTokenDPoPProof   = errors.New("authorizer: DPoP proof is not accepted")
	ErrTokenDPoPReplay  = errors.New("authorizer: DPoP proof was replayed")
	ErrTokenDPoPNonce   = errors.New("authorizer: DPoP proof lacks the server's nonce")
	ErrTokenDPoPBinding = errors.New("authorizer: token is presented without the key binding it requires")
	// ErrDPoPReplayCacheFull: a DPoP proof could not be checked for replay
	// because the receiver's replay cache is full of live entries; the
	// request is refused (fail closed) and may pass later. The
	// *AuthorizationError carrying it (StatusCode 503, RetryAfter set)
	// reports Temporary.
	ErrDPoPReplayCacheFull = errors.New("authorizer: DPoP replay cache is full")
	// ErrDPoPReplayStoreUnavailable: a DPoP proof could not be checked
	// against the replay store shared by a fleet of receivers (it failed,
	// or did not answer in time); the request is refused (fail closed) and
	// may pass later. The *AuthorizationError carrying it (StatusCode 503,
	// RetryAfter set) reports Temporary and also wraps the store's error.
	ErrDPoPReplayStoreUnavailable = errors.New("authorizer: DPoP replay store is unavailable")
)

var reasonSentinels = [...]error{
	TokenMalformed:   ErrTokenMalformed,
	TokenSignature:   ErrTokenSignature,
	TokenAlgorithm:   ErrTokenAlgorithm,
	TokenUnknownKey:  ErrTokenUnknownKey,
	TokenExpired:     ErrTokenExpired,
	TokenNotYetValid: ErrTokenNotYetValid,
	TokenIssuer:      ErrTokenIssuer,
	TokenAudience:    ErrTokenAudience,
	TokenUse:         ErrTokenUse,
	TokenScope:       ErrTokenScope,
	TokenDPoPProof:   ErrTokenDPoPProof,
	TokenDPoPReplay:  ErrTokenDPoPReplay,
	TokenDPoPNonce:   ErrTokenDPoPNonce,
	TokenDPoPBinding: ErrTokenDPoPBinding,
}

var reasonNames = [...]string{
	TokenMalformed:   "malformed",
	TokenSignature:   "signature",
	TokenAlgorithm:   "algorithm",
	TokenUnknownKey:  "unknown key",
	TokenExpired:     "expired",
	TokenNotYetValid: "not yet valid",
	TokenIssuer:      "issuer",
	TokenAudience:    "audience",
	TokenUse:         "token use",
	TokenScope:       "scope",
	TokenDPoPProof:   "DPoP proof",
	TokenDPoPReplay:  "DPoP replay",
	TokenDPoPNonce:   "DPoP nonce",
	TokenDPoPBinding: "DPoP binding",
}

// String names the reason ("expired", "unknown key", …).
func (r TokenReason) String() string {
	if r <= 0 || int(r) >= len(reasonNames) {
		return "unknown reason"
	}
	return reasonNames[r]
}

// Sentinel returns the reason's sentinel error ([ErrTokenExpired] for
// [TokenExpired]), or nil for an unknown reason.
func (r TokenReason) Sentinel() error {
	if r <= 0 || int(r) >= len(reasonSentinels) {
		return nil
	}
	return reasonSentinels[r]
}

// InvalidTokenError: a received token was refused (package verify). Reason
// says why; errors.Is(err, [ErrTokenExpired]) and the other sentinels match
// the reason. The message never contains the token or any part of it that an
// attacker chose, only the reason and a fixed detail. Retrying with the same
// token cannot help.
type InvalidTokenError struct {
	// Reason says why the token was refused.
	Reason TokenReason
	// Detail says what exactly failed, in fixed words (e.g. "exp is more
	// than the leeway in the past"); never a token or a claim value.
	Detail string
	// Err is the cause, if any: e.g. the *AuthorizationError of a key set
	// that could not be refreshed when a token named an unknown key.
	Err error
}

func (e *InvalidTokenError) Error() string {
	var b strings.Builder
	b.WriteString("authorizer: invalid token (")
	b.WriteString(e.Reason.String())
	b.WriteString(")")
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *InvalidTokenError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Reason.
func (e *InvalidTokenError) Is(target error) bool {
	s := e.Reason.Sentinel()
	return s != nil && target == s
}

// Temporary reports whether the same token may pass later: only when its
// key was unknown and the keys could not be refreshed because of a
// temporary failure (Err is, or wraps, an error whose Temporary reports
// true, e.g. an *AuthorizationError for a key URL answering 503).
func (e *InvalidTokenError) Temporary() bool {
	var t interface{ Temporary() bool }
	return e.Err != nil && errors.As(e.Err, &t) && t.Temporary()
}
