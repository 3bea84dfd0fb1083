package verify

import (
	"context"
	"errors"
	"strconv"
	"testing"

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
	for i := range DefaultDPoPReplayCacheSize {
		if err := v.replay.record(attackerJKT, strconv.Itoa(i), until, now); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	victim := boundToken(dpKey2.Thumbprint())
	_, err := v.VerifyDPoP(context.Background(), victim, mustProof(t, dpKey2, "GET", dpTarget, victim, "", now), "GET", dpTarget)
	if errors.Is(err, authorizer.ErrDPoPReplayCacheFull) {
		t.Skip("FINDING (medium): verify/dpopreplay.go:415 record: the replay cache is one global pool, so ONE key's proofs " +
			"(any customer with one bound token signs 100 000 valid proofs in ~5 s of CPU) fill it and every other client's DPoP " +
			"request gets 503 for up to DefaultDPoPProofAge (5 min). The defaults also cap a Verifier at ~333 DPoP requests/s " +
			"(100 000 / 300 s), which WithDPoPReplayCacheSize's doc does not state. Fix: a per-jkt quota (refuse only the key " +
			"that floods), and document size/age as the sustained rate.")
	}
	if err != nil {
		t.Fatalf("victim refused otherwise: %v", err)
	}
}
