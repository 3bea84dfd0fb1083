package verify

import (
	"context"
	"crypto/subtle"
	"net/url"
	"strings"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// DPoP (RFC 9449) on the receiving side: a token bound to a key (cnf.jkt)
// is accepted only with a proof JWT signed by that key for this very
// request. This file parses the proof and checks it against the request
// and the token; dpopreplay.go remembers the jti values seen, and
// dpopnonce.go makes the optional server nonces.

// Limits of a DPoP proof.
const (
	// MaxDPoPProofSize is the largest DPoP header value accepted, checked
	// before anything is decoded.
	MaxDPoPProofSize = 8 << 10
	// maxJTISize bounds a proof's jti (the replay cache keeps a hash of it).
	maxJTISize = 256
)

// proof is a parsed DPoP proof whose signature verified with its own jwk.
type proof struct {
	alg                       string
	jkt                       string // RFC 7638 thumbprint of the jwk
	jti, htm, htu, ath, nonce string
	iat                       int64
}

func proofError(detail string) error {
	return &authorizer.InvalidTokenError{Reason: authorizer.TokenDPoPProof, Detail: detail}
}

// VerifyDPoP checks a token presented with the DPoP scheme (RFC 9449 §7):
// raw is the access token (without "DPoP "), proofJWT the request's one
// DPoP header, method and target the request's method and URL as the
// client sent it (scheme and host as seen from outside any proxy; the
// query is ignored). It checks the token as [Verifier.Verify] does, then
// that the token is bound to a key (cnf.jkt) and that the proof is a
// "dpop+jwt" JWS of an accepted algorithm ([WithDPoPAlgorithms]), signed
// by its public jwk, whose thumbprint is the token's cnf.jkt, with htm ==
// method, htu == [dpop.TargetURI](target), iat within [WithDPoPProofAge]
// (and at most [WithNotBeforeLeeway] ahead), ath == the token's hash, the
// server's nonce when [WithDPoPNonces] is on, and a jti not seen within the
// proof window ([WithDPoPReplayCacheSize]), nor by the fleet's shared
// store when there is one ([WithDPoPReplayStore]). The jti is recorded only
// when everything else passed; the shared store is asked last.
//
// Errors are those of Verify, or an *[authorizer.InvalidTokenError] whose
// reason is [authorizer.TokenDPoPBinding] (no cnf.jkt),
// [authorizer.TokenDPoPProof], [authorizer.TokenDPoPReplay] or
// [authorizer.TokenDPoPNonce] (send [Verifier.DPoPNonce] in a DPoP-Nonce
// header); a full replay cache is an *[authorizer.AuthorizationError]
// wrapping [authorizer.ErrDPoPReplayCacheFull] (Temporary, RetryAfter set:
// answer 503), and so is a failed or slow shared store (wrapping
// [authorizer.ErrDPoPReplayStoreUnavailable]). No message holds the token
// or the proof. Safe for concurrent
// use; two calls with the same proof accept it at most once.
func (v *Verifier) VerifyDPoP(ctx context.Context, raw, proofJWT, method string, target *url.URL) (*Claims, error) {
	if ctx == nil {
		return nil, &authorizer.InvalidConfigError{Setting: "verify.Verifier.VerifyDPoP", Problem: "ctx is nil"}
	}
	c, err := v.verifyToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	if c.KeyThumbprint == "" {
		return nil, invalid(authorizer.TokenDPoPBinding, "the token is bound to no key (no cnf.jkt) but was presented with DPoP")
	}
	if c.CertificateThumbprint != "" || c.otherBinding {
		return nil, invalid(authorizer.TokenDPoPBinding, "the token is also bound by a confirmation method (cnf) a DPoP proof does not satisfy")
	}
	if proofJWT == "" {
		return nil, proofError("there is no DPoP proof")
	}
	p, err := v.parseProof(proofJWT)
	if err != nil {
		return nil, err
	}
	now := v.cfg.now()
	if err := v.checkProof(p, c, raw, method, target, now); err != nil {
		return nil, err
	}
	until := time.Unix(p.iat, 0).Add(v.cfg.dpopAge + time.Second)
	if err := v.replay.record(p.jkt, p.jti, until, now); err != nil {
		return nil, err
	}
	if err := v.recordShared(ctx, p, until); err != nil {
		return nil, err
	}
	return c, nil
}

// checkProof checks p against the request, the token and the clock.
func (v *Verifier) checkProof(p *proof, c *Claims, raw, method string, target *url.URL, now time.Time) error {
	iat := time.Unix(p.iat, 0)
	switch {
	case p.htm != method:
		return proofError("proof htm is not the request method")
	case !sameTarget(p.htu, target):
		return proofError("proof htu is not the request URL")
	case iat.Before(now.Add(-v.cfg.dpopAge)):
		return proofError("proof iat is older than the proof window")
	case iat.After(now.Add(v.cfg.notBeforeLeeway)):
		return proofError("proof iat is in the future, beyond the leeway")
	case subtle.ConstantTimeCompare([]byte(p.ath), []byte(dpop.AccessTokenHash(raw))) != 1:
		return proofError("proof ath is not the hash of the access token")
	case subtle.ConstantTimeCompare([]byte(p.jkt), []byte(c.KeyThumbprint)) != 1:
		return proofError("proof key is not the key the token is bound to (cnf.jkt)")
	case v.nonces != nil && !v.nonces.valid(p.nonce, now):
		return invalid(authorizer.TokenDPoPNonce, "proof has no nonce, or not a current one of this server")
	}
	return nil
}

// sameTarget reports whether htu names target, both without query and
// fragment and normalised as [dpop.TargetURI] does.
func sameTarget(htu string, target *url.URL) bool {
	want := dpop.TargetURI(target)
	u, err := url.Parse(htu)
	// user info or an opaque form names no other target, but is not the
	// request's URL either: refused rather than dropped
	return err == nil && want != "" && u.User == nil && u.Opaque == "" && dpop.TargetURI(u) == want
}

// parseProof decodes raw, reads its header and jwk, verifies its signature
// with that jwk, and reads its claims.
func (v *Verifier) parseProof(raw string) (*proof, error) {
	t, header, err := decodeJWS(raw, MaxDPoPProofSize)
	if err != nil {
		return nil, proofError("proof is not a compact JWS of at most 8 KiB")
	}
	p := &proof{}
	k, err := p.readHeader(header, v.cfg.dpopAlgs)
	if err != nil {
		return nil, err
	}
	if !k.verify(p.alg, t.input, t.sig) {
		return nil, proofError("proof signature does not verify with its jwk")
	}
	if err := p.readClaims(t.payload); err != nil {
		return nil, err
	}
	return p, nil
}

// readHeader reads typ, alg and jwk, and returns the jwk's key.
func (p *proof) readHeader(header string, algs []string) (*key, error) {
	var typ, jwkRaw, bad string
	err := walkObject(header, func(name, value, _ string) error {
		var ok bool
		switch name {
		case "typ":
			typ, ok = jsonString(value)
		case "alg":
			p.alg, ok = jsonString(value)
		case "jwk":
			jwkRaw, ok = value, strings.HasPrefix(value, "{")
		case "jku", "x5u", "x5c", "crit", "zip", "b64", "enc":
			bad, ok = name, true
		default:
			ok = true
		}
		if !ok {
			return errJSON
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, proofError("proof header is not a valid JSON object")
	case bad != "":
		return nil, proofError("proof header parameter " + bad + " is not accepted")
	case typ != dpop.ProofType:
		return nil, proofError(`proof typ is not "dpop+jwt"`)
	case !accepted(algs, p.alg):
		return nil, proofError("proof alg is not accepted")
	case jwkRaw == "":
		return nil, proofError("proof header has no jwk")
	}
	return p.readJWK(jwkRaw)
}

// privateMembers are the JWK members of private and symmetric keys
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// readJWK reads the proof's public key; it must fit p.alg.
func (p *proof) readJWK(raw string) (*key, error) {
	var j jwk
	private := false
	err := walkObject(raw, func(name, value, _ string) error {
		for _, m := range privateMembers {
			if strings.EqualFold(name, m) {
				private = true
			}
		}
		dst := j.member(name)
		if dst == nil {
			return nil
		}
		var ok bool
		if *dst, ok = jsonString(value); !ok {
			return errJSON
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, proofError("proof jwk is not a valid JSON object")
	case private:
		return nil, proofError("proof jwk holds a private or symmetric key")
	}
	pub, err := j.publicKey()
	if err != nil {
		return nil, proofError("proof jwk is not a usable public key")
	}
	k, err := newKey("", p.alg, pub)
	if err != nil {
		return nil, proofError("proof jwk is not a usable public key for its alg")
	}
	if p.jkt, err = dpop.Thumbprint(pub); err != nil {
		return nil, proofError("proof jwk has no thumbprint")
	}
	return k, nil
}

// member returns the field of a public key member, or nil.
func (j *jwk) member(name string) *string {
	switch name {
	case "kty":
		return &j.Kty
	case "crv":
		return &j.Crv
	case "x":
		return &j.X
	case "y":
		return &j.Y
	case "n":
		return &j.N
	case "e":
		return &j.E
	}
	return nil
}

// readClaims reads jti, htm, htu, iat, ath and nonce; the first four are
// required.
func (p *proof) readClaims(payload string) error {
	hasIat := false
	err := walkObject(payload, func(name, value, _ string) error {
		ok := true
		switch name {
		case "jti":
			p.jti, ok = jsonString(value)
		case "htm":
			p.htm, ok = jsonString(value)
		case "htu":
			p.htu, ok = jsonString(value)
		case "ath":
			p.ath, ok = jsonString(value)
		case "nonce":
			p.nonce, ok = jsonString(value)
		case "iat":
			p.iat, ok = jsonNumericDate(value)
			hasIat = true
		}
		if !ok {
			return errClaimType
		}
		return nil
	})
	switch {
	case err != nil:
		return proofError("proof claims are not a valid JSON object of the right types")
	case p.jti == "" || len(p.jti) > maxJTISize:
		return proofError("proof jti is missing, empty or longer than 256 bytes")
	case p.htm == "" || p.htu == "" || !hasIat:
		return proofError("proof lacks htm, htu or iat")
	}
	return nil
}

func accepted(algs []string, alg string) bool {
	for _, a := range algs {
		if a == alg {
			return true
		}
	}
	return false
}
