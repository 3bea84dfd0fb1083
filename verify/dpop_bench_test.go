package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"testing"
)

// BenchmarkDPoP: the receiving side's cost of a DPoP request (token from
// the verified-token cache, proof parsed and verified, replay cache) side
// by side with the raw ecdsa.Verify it cannot avoid, and the bearer hot
// path. Proofs are made before the timer; each one is new (no replay).
func BenchmarkDPoP(b *testing.B) {
	c := newClock()
	v := newDPoPVerifier(b, c, WithDPoPReplayCacheSize(1<<24))
	tok := boundToken(dpKey.Thumbprint())
	ctx := context.Background()
	proofs := make([]string, 4096)
	for i := range proofs {
		proofs[i] = mustProof(b, dpKey, "GET", dpTarget, tok, "", c.Now())
	}
	b.Run("VerifyDPoP", func(b *testing.B) {
		v.replay = newReplayCache(1 << 24)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == len(proofs) {
				b.StopTimer()
				v.replay = newReplayCache(1 << 24)
				i = 0
				b.StartTimer()
			}
			if _, err := v.VerifyDPoP(ctx, tok, proofs[i], "GET", dpTarget); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("raw ecdsa.VerifyASN1 floor", func(b *testing.B) {
		digest := sha256.Sum256([]byte(proofs[0]))
		sig, _ := ecdsa.SignASN1(nil, ecKey, digest[:])
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.VerifyASN1(&ecKey.PublicKey, digest[:], sig) {
				b.Fatal("no")
			}
		}
	})
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	b.Run("bearer hot path (cached)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, unbound); err != nil {
				b.Fatal(err)
			}
		}
	})
}
