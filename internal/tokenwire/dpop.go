package tokenwire

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/servertext"
)

// This file is DPoP (RFC 9449) at the token endpoint: the proof every
// request with Request.DPoP carries (§5), the server's nonce (§8: an
// answer 400 use_dpop_nonce is sent once more with the nonce it names, and
// every answer's DPoP-Nonce is remembered), and the token type the answer
// must then have (§5: DPoP; a Bearer answer is a downgrade).

// addProof signs a DPoP proof for req (htm POST, htu the token URL, no ath,
// the newest nonce remembered for the URL's origin) and sets the DPoP
// header. It does nothing without Request.DPoP.
func addProof(r *Request, req *http.Request) error {
	if r.DPoP == nil {
		return nil
	}
	nonce := r.Nonces.Get(dpop.Origin(req.URL))
	proof, err := r.DPoP.Proof(req.Method, req.URL, "", nonce, r.now())
	if err != nil {
		return &authorizer.AuthorizationError{Message: prefix + "could not sign the DPoP proof", Err: err}
	}
	req.Header.Set(dpop.Header, proof)
	r.proof, r.proofNonce = proof, nonce
	return nil
}

// observeNonce remembers the DPoP-Nonce of an answer from u's origin.
func observeNonce(r *Request, u *url.URL, h http.Header) {
	if r.DPoP != nil {
		r.Nonces.Observe(dpop.Origin(u), h)
	}
}

// wantsNonce reports whether an answer to a DPoP request asks for a nonce
// the proof did not carry (RFC 9449 §8): status 400, error use_dpop_nonce,
// one valid DPoP-Nonce header, and that nonce not the one just sent (a
// server refusing the nonce it gave is not asked again).
func wantsNonce(r *Request, status int, header http.Header, body []byte) bool {
	if r.DPoP == nil || status != http.StatusBadRequest {
		return false
	}
	v := header.Values(dpop.NonceHeader)
	if len(v) != 1 || !dpop.ValidNonce(v[0]) || v[0] == r.proofNonce {
		return false
	}
	f, _ := decode(header, body)
	return stringField(f, "error") == dpop.ErrorUseNonce
}

// tokenType checks token_type against how the token was asked for: with a
// DPoP key (key != nil) it must be DPoP in any case, and a Bearer (or
// missing) type is a *DowngradeError; without one it must be Bearer (or
// missing), and anything else an *UnsupportedTokenTypeError. The result is
// the canonical spelling, "DPoP" or "Bearer".
func tokenType(got string, key *dpop.Key, secrets []string) (string, error) {
	if key == nil {
		return bearer(got, secrets)
	}
	if strings.EqualFold(got, dpop.TokenType) {
		return dpop.TokenType, nil
	}
	if got == "" || strings.EqualFold(got, "bearer") {
		return "", &DowngradeError{TokenType: got}
	}
	return "", &UnsupportedTokenTypeError{TokenType: servertext.Clean(got, maxFieldLen, secrets...)}
}

// DowngradeError is returned when a token request sent with a DPoP proof
// is answered with a Bearer token (or one without token_type): the server
// ignored the proof, and the token would work for anyone who steals it
// (RFC 9449 §5). Such a token is not used.
type DowngradeError struct {
	// TokenType is the token_type the endpoint sent: "Bearer" in some
	// case, or "" when it sent none.
	TokenType string
}

func (e *DowngradeError) Error() string {
	got := "without a token_type"
	if e.TokenType != "" {
		got = fmt.Sprintf("of type %q", e.TokenType)
	}
	return prefix + "token endpoint answered a DPoP token request with a token " + got +
		"; a DPoP-bound token was asked for, and an unbound one is refused (RFC 9449 §5)"
}

// Temporary reports false: the server does not bind this client's tokens.
func (e *DowngradeError) Temporary() bool { return false }
