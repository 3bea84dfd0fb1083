package base

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// This file is how a Transport sends a DPoP-bound token (RFC 9449): the
// token as "Authorization: DPoP <token>" and, per request, a new proof
// signed by the key the token is bound to ([dpop.KeyOf]), with the
// resource server's newest nonce.

// proofHeader is the DPoP header's key in an http.Header ("Dpop").
var proofHeader = http.CanonicalHeaderKey(dpop.Header)

// binding is what a DPoP-bound token needs for each proof.
type binding struct {
	key *dpop.Key
	ath string // the access token's hash, computed once per token
}

// bindingOf returns the binding of a DPoP token carrying its key, or nil
// (a Bearer token; adopt refuses a DPoP token without its key).
func bindingOf(tok *oauth2.Token) *binding {
	if !dpop.IsDPoP(tok) {
		return nil
	}
	if k := dpop.KeyOf(tok); k != nil {
		return &binding{key: k, ath: dpop.AccessTokenHash(tok.AccessToken)}
	}
	return nil
}

// keylessDPoP reports whether tok is of type DPoP but carries no key (a
// cache that serialises tokens dropped it): such a token can never be
// sent, neither as DPoP nor as Bearer.
func keylessDPoP(tok *oauth2.Token) bool {
	return dpop.IsDPoP(tok) && dpop.KeyOf(tok) == nil
}

// keylessError refuses a DPoP token without its key at adoption.
func keylessError() error {
	return &authorizer.AuthorizationError{
		Message: "base: the DPoP token carries no key (dpop.KeyOf is nil), so no proof can be signed for it"}
}

// errNoReplay says a replay could not be built (GetBody or the proof
// failed): the caller then gets the response it came after.
var errNoReplay = errors.New("base: no replay")

// roundTripDPoP is RoundTrip for a DPoP-bound token st. A 401 that asks
// for a nonce (RFC 9449 §9) does not retire the token: the request is sent
// once more with a proof carrying that nonce, when its body can be
// replayed. A 401 to that replay, or any other 401, is handled as for a
// Bearer token (retryUnauthorized): at most one new token, one replay with
// it (and one more should it meet a nonce challenge), never a loop.
func (t *Transport) roundTripDPoP(req *http.Request, st *tokenState) (*http.Response, error) {
	origin := dpop.Origin(proofTarget(req)) // the host the server sees, as htu names it
	r2, err := t.withProof(req, st, origin, "")
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.sendBound(r2, origin)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		var unanswered bool
		if resp, unanswered, err = t.answerNonce(req, st, resp); err != nil || unanswered {
			return resp, err // the token is not at fault
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return t.retryUnauthorized(req, st, resp)
		}
	}
	if err == nil {
		st.accept()
	}
	return resp, err
}

// answerNonce answers resp, a 401 to req sent with the DPoP token st. When
// it is a nonce challenge and req can be replayed, the 401's body is kept
// in memory (its connection released) and req is sent once more with a
// proof carrying the nonce: the replay's answer is returned. A challenge
// that cannot be answered (the body cannot be replayed), or whose replay
// meets another nonce challenge (the nonce changed meanwhile), returns
// that answer with unanswered set: the token is not at fault, and the next
// request carries the newest nonce. Any other 401 is returned as it came.
func (t *Transport) answerNonce(req *http.Request, st *tokenState, resp *http.Response) (_ *http.Response, unanswered bool, _ error) {
	nonce, ok := dpop.ResourceNonceChallenge(resp)
	if !ok {
		return resp, false, nil
	}
	if !replayable(req) {
		return resp, true, nil
	}
	keepBody(resp)
	again, err := t.replay(req, st, nonce)
	if err == errNoReplay {
		return resp, true, nil
	}
	if err == nil {
		if _, more := dpop.ResourceNonceChallenge(again); more {
			// the nonce changed meanwhile (rotated, or a single-use one
			// another request used): still not the token's fault; the
			// next request carries the newest nonce
			return again, true, nil
		}
	}
	return again, false, err
}

// withProof returns withCredentials(req, st) without any DPoP header of
// the caller's (in any case) and with a new DPoP proof for req, signed
// with st's key and carrying nonce, or the newest nonce remembered for
// origin (req's, [dpop.Origin]) when nonce is "". A proof that cannot be
// signed (a method that is not an HTTP token, a URL without host) is an
// *authorizer.AuthorizationError.
func (t *Transport) withProof(req *http.Request, st *tokenState, origin, nonce string) (*http.Request, error) {
	if nonce == "" {
		nonce = t.nonces.Get(origin)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet // net/http's meaning of ""
	}
	proof, err := st.bound.key.ProofForHash(method, proofTarget(req), st.bound.ath, nonce, t.now())
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "base: cannot sign a DPoP proof for the request", Err: err}
	}
	r2 := t.withCredentials(req, st)
	for k := range r2.Header { // a copy: the caller's header map is not touched
		if isProofHeader(k) {
			delete(r2.Header, k) // a caller's own DPoP, in any case
		}
	}
	r2.Header[proofHeader] = []string{proof}
	return r2, nil
}

// isProofHeader reports whether header key k names DPoP, in any case.
func isProofHeader(k string) bool {
	return len(k) == len(dpop.Header) && equalFoldASCII(k, dpop.Header)
}

// sendBound sends r2, which carries a DPoP proof, and remembers the nonce
// of the answer from origin (RFC 9449 §9: a server may send a new one with
// any answer, 401 or not).
func (t *Transport) sendBound(r2 *http.Request, origin string) (*http.Response, error) {
	resp, err := t.cfg.next.RoundTrip(r2)
	if err == nil && resp != nil {
		t.nonces.Observe(origin, resp.Header)
	}
	return resp, err
}

// proofTarget is the URL a proof's htu names: req.URL, with req.Host as its
// host when set (a virtual host reached by address), since that is the
// host the server sees.
func proofTarget(req *http.Request) *url.URL {
	if req.Host == "" || req.Host == req.URL.Host {
		return req.URL
	}
	u := *req.URL
	u.Host = req.Host
	return &u
}
