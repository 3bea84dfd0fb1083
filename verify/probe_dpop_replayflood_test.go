package verify

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// One client holding one bound token can sign as many valid proofs as it
// likes (one ES256 signature each, ~50 µs). Every one is accepted and
// recorded, so with the defaults DefaultDPoPReplayCacheSize proofs within
// DefaultDPoPProofAge (100 000 in 5 min, ~333/s) fill the cache, and from
// then on EVERY client's DPoP request is refused (503) until entries age
// out. The probe fills the cache through record (as VerifyDPoP does after
// all checks pass) with one key's jti values, then presents another
// client's good proof. (break-dpop-docs review)
func TestProbeDPoPReplayCacheFloodByOneKey(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	now := c.Now()
	const attackerJKT = "attacker-jkt"
	until := now.Add(DefaultDPoPProofAge)
	refused := -1
	for i := range DefaultDPoPReplayCacheSize {
		if err := v.replay.record(attackerJKT, strconv.Itoa(i), until, now); err != nil {
			refused = i
			break
		}
	}
	if refused != DefaultDPoPReplayCacheSize/4 {
		t.Fatalf("the flooding key was refused at entry %d; want at its quarter, %d", refused, DefaultDPoPReplayCacheSize/4)
	}
	victim := boundToken(dpKey2.Thumbprint())
	_, err := v.VerifyDPoP(context.Background(), victim, mustProof(t, dpKey2, "GET", dpTarget, victim, "", now), "GET", dpTarget)
	if errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
		t.Fatal("one key's proofs filled the replay cache for every other client")
	}
	if err != nil {
		t.Fatalf("victim refused otherwise: %v", err)
	}
}

// tokenerror.go's ErrDPoPReplayCacheFull doc: "The *InvalidTokenError
// carrying it reports Temporary"; VerifyDPoP's doc: an
// *authorizer.AuthorizationError (Temporary, RetryAfter set). Both can't
// hold; check what callers get.
func TestProbeDPoPReplayFullErrorType(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(1))
	now := c.Now()
	tok := boundToken(dpKey.Thumbprint())
	if _, err := v.VerifyDPoP(context.Background(), tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", now), "GET", dpTarget); err != nil {
		t.Fatal(err)
	}
	_, err := v.VerifyDPoP(context.Background(), tok, mustProof(t, dpKey, "GET", dpTarget, tok, "", now), "GET", dpTarget)
	var ae *authorizer.AuthorizationError
	if !errors.Is(err, authorizer.ErrDPoPReplayCacheFull) || !errors.As(err, &ae) || !ae.Temporary() || ae.RetryAfter < time.Second {
		t.Fatalf("err %T %v; want a temporary AuthorizationError with RetryAfter (VerifyDPoP's doc)", err, err)
	}

}
