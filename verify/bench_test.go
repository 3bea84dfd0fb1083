package verify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// Benchmarks for the figures: a fresh RS256 token (cache off)
// against the crypto/rsa floor (base64 + SHA-256 + VerifyPKCS1v15, no
// JSON) in the same run, and a repeated token (cache on). Compare with
//
//	go test ./verify -run '^$' -bench 'Floor|Fresh|Cached' -benchmem -count 5

// benchToken is the anchor's job: kid, iss/sub/aud/iat/exp, permissions.
func benchToken() string {
	return token(rsaKey(0), "RS256", "k1", with(goodClaims(),
		"userid", "user-42", "service", "billing", "permissions", []string{"invoice:read", "invoice:write", "customer:read"}))
}

func benchVerifier(b *testing.B, cacheSize int) *Verifier {
	keys, err := ParseJWKS([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `]}`))
	if err != nil {
		b.Fatal(err)
	}
	return newTestVerifier(b, keys, newClock(), WithCacheSize(cacheSize))
}

func BenchmarkFloorRS256(b *testing.B) {
	tok := benchToken()
	pub := &rsaKey(0).PublicKey
	b.ReportAllocs()
	for b.Loop() {
		if err := floor(tok, pub); err != nil {
			b.Fatal(err)
		}
	}
}

func floor(tok string, pub *rsa.PublicKey) error {
	dot := strings.LastIndexByte(tok, '.')
	first := strings.IndexByte(tok, '.')
	if _, err := base64.RawURLEncoding.DecodeString(tok[first+1 : dot]); err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(tok[:dot]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

func BenchmarkVerifyFresh(b *testing.B) {
	tok := benchToken()
	v := benchVerifier(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	tok := benchToken()
	v := benchVerifier(b, DefaultCacheSize)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloorRS256Parallel(b *testing.B) {
	tok := benchToken()
	pub := &rsaKey(0).PublicKey
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := floor(tok, pub); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyFreshParallel(b *testing.B) {
	tok := benchToken()
	v := benchVerifier(b, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	tok := benchToken()
	v := benchVerifier(b, DefaultCacheSize)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestCachedVerifyAllocatesNothing pins the cache's 0 allocs.
func TestCachedVerifyAllocatesNothing(t *testing.T) {
	tok := benchToken()
	keys, _ := ParseJWKS([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `]}`))
	v := newTestVerifier(t, keys, newClock())
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = v.Verify(ctx, tok) }); n != 0 {
		t.Errorf("cached Verify: %v allocs; want 0", n)
	}
}

// BenchmarkFreshOverFloor alternates fresh verification and the floor in
// small rounds, so a machine's changing load hits both alike, and reports
// their ratio (x-floor) besides the per-op times.
func BenchmarkFreshOverFloor(b *testing.B) {
	tok := benchToken()
	pub := &rsaKey(0).PublicKey
	v := benchVerifier(b, 0)
	ctx := context.Background()
	var fresh, flo time.Duration
	const round = 20
	for b.Loop() {
		start := time.Now()
		for range round {
			if err := floor(tok, pub); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		for range round {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
		fresh += time.Since(mid)
		flo += mid.Sub(start)
	}
	b.ReportMetric(float64(fresh)/float64(flo), "x-floor")
	b.ReportMetric(float64(fresh.Nanoseconds())/float64(b.N*round), "fresh-ns/op")
	b.ReportMetric(float64(flo.Nanoseconds())/float64(b.N*round), "floor-ns/op")
}

// BenchmarkJOSEOnly is everything fresh verification adds to the crypto:
// split, decode, header, claims and their checks, without the signature.
func BenchmarkJOSEOnly(b *testing.B) {
	tok := benchToken()
	v := benchVerifier(b, 0)
	now := testEpoch
	b.ReportAllocs()
	for b.Loop() {
		t, err := parseJWS(tok)
		if err != nil {
			b.Fatal(err)
		}
		c, err := parseClaims(t.payload)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.checkClaims(c, now); err != nil {
			b.Fatal(err)
		}
	}
}
