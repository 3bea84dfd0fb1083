package base

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// The DPoP hot path against its target (issue 13): at most 1.3 times the
// raw signature plus today's Bearer hot path, measured in one run. Run the
// benchmarks side by side with
//
//	go test -run '^$' -bench 'HotPath|RawSign' -benchmem -count 6 ./base
//
// or the ratio with AUTHORIZER_DPOP_RATIO=1 go test -run TestDPoPCostRatio -v ./base.

// Both algorithms a proof key has.
var benchAlgs = []string{dpop.ES256, dpop.EdDSA}

// benchSigner returns a new private key of alg.
func benchSigner(tb testing.TB, alg string) crypto.Signer {
	tb.Helper()
	if alg == dpop.EdDSA {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return priv
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

// hotTransport returns a Transport holding a valid token over a no-op
// inner transport: a Bearer token when s is nil, else a DPoP token bound
// to s.
func hotTransport(tb testing.TB, s crypto.Signer) http.RoundTripper {
	tb.Helper()
	tok := validToken()
	if s != nil {
		k, err := dpop.NewKey(s)
		if err != nil {
			tb.Fatal(err)
		}
		tok.TokenType = dpop.TokenType
		tok = dpop.Bind(tok, k)
	}
	tr := NewTransport(FromTokenSource(oauth2.StaticTokenSource(tok)), WithBase(noopTransport{benchResp}))
	tb.Cleanup(func() { tr.Close() })
	return tr
}

// hotLoop measures tr.RoundTrip with a valid token, one goroutine.
func hotLoop(b *testing.B, tr http.RoundTripper) {
	req := benchRequest(b)
	if _, err := tr.RoundTrip(req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHotPath is today's hot path: a valid Bearer token, one
// goroutine (BenchmarkRoundTrip/impl=authorizer).
func BenchmarkHotPath(b *testing.B) { hotLoop(b, hotTransport(b, nil)) }

// BenchmarkHotPathDPoP is the hot path with a DPoP-bound token: a new
// proof per request.
func BenchmarkHotPathDPoP(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run("alg="+alg, func(b *testing.B) { hotLoop(b, hotTransport(b, benchSigner(b, alg))) })
	}
}

// BenchmarkRawSign is the signature alone: ecdsa.Sign of a SHA-256 digest
// with a P-256 key, ed25519.Sign of a 300-byte message (a proof's size).
func BenchmarkRawSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run("alg="+alg, func(b *testing.B) { rawSign(b, benchSigner(b, alg)) })
	}
}

func rawSign(b *testing.B, s crypto.Signer) {
	msg := []byte(strings.Repeat("p", 300))
	b.ReportAllocs()
	switch k := s.(type) {
	case *ecdsa.PrivateKey:
		for b.Loop() {
			d := sha256.Sum256(msg)
			if _, _, err := ecdsa.Sign(rand.Reader, k, d[:]); err != nil {
				b.Fatal(err)
			}
		}
	case ed25519.PrivateKey:
		for b.Loop() {
			_ = ed25519.Sign(k, msg)
		}
	}
}

// TestDPoPCostRatio prints DPoP hot path / (raw signature + Bearer hot
// path) per algorithm, and fails above the 1.3 target. All are measured in
// this one process in CPU time (cpuTime; wall time per operation on a
// shared machine mostly measures the scheduler), in many short rounds of
// the three in turn, the order flipped every round, so that a drift of
// the machine's speed (other load on a sibling hyperthread) hits both
// sides of each round's ratio alike. The ratio is the median of the
// rounds' ratios. It runs only with AUTHORIZER_DPOP_RATIO=1 (about 15 s).
func TestDPoPCostRatio(t *testing.T) {
	if os.Getenv("AUTHORIZER_DPOP_RATIO") == "" {
		t.Skip("set AUTHORIZER_DPOP_RATIO=1 to measure")
	}
	const rounds = 41
	bearerOp := hotOp(t, hotTransport(t, nil))
	nBearer := calibrate(bearerOp)
	for _, alg := range benchAlgs {
		dpopOp, signOp := hotOp(t, hotTransport(t, benchSigner(t, alg))), signOp(benchSigner(t, alg))
		nDPoP, nSign := calibrate(dpopOp), calibrate(signOp)
		var ratios, ds, ss, bs []float64
		for i := range rounds {
			var d, s, b float64
			if i%2 == 0 {
				b, d, s = cpuNsPerOp(bearerOp, nBearer), cpuNsPerOp(dpopOp, nDPoP), cpuNsPerOp(signOp, nSign)
			} else {
				s, d, b = cpuNsPerOp(signOp, nSign), cpuNsPerOp(dpopOp, nDPoP), cpuNsPerOp(bearerOp, nBearer)
			}
			ratios, ds, ss, bs = append(ratios, d/(s+b)), append(ds, d), append(ss, s), append(bs, b)
		}
		ratio := median(ratios)
		t.Logf("%-5s DPoP hot path %6.0f CPU ns/op, raw sign %6.0f, Bearer hot path %4.0f (medians of %d rounds): DPoP/(sign+Bearer) %.3f (target <= 1.3)",
			alg, median(ds), median(ss), median(bs), rounds, ratio)
		fmt.Fprintf(os.Stdout, "dpop-ratio alg=%s dpop_ns=%.0f sign_ns=%.0f bearer_ns=%.0f ratio=%.3f\n", alg, median(ds), median(ss), median(bs), ratio)
		if ratio > 1.3 {
			t.Errorf("%s: DPoP hot path is %.2f times the raw signature plus the Bearer hot path; the target is 1.3", alg, ratio)
		}
	}
}

// hotOp is one RoundTrip of tr with a valid token.
func hotOp(t *testing.T, tr http.RoundTripper) func() {
	req := benchRequest(&testing.B{})
	return func() {
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
}

// signOp is one raw signature of the size BenchmarkRawSign signs.
func signOp(s crypto.Signer) func() {
	msg := []byte(strings.Repeat("p", 300))
	switch k := s.(type) {
	case *ecdsa.PrivateKey:
		return func() {
			d := sha256.Sum256(msg)
			_, _, _ = ecdsa.Sign(rand.Reader, k, d[:])
		}
	case ed25519.PrivateKey:
		return func() { _ = ed25519.Sign(k, msg) }
	}
	panic("unreachable")
}

// calibrate returns how many runs of op take about 20 ms of CPU.
func calibrate(op func()) int {
	n := 16
	for {
		if per := cpuNsPerOp(op, n); per*float64(n) >= 10e6 {
			return max(1, int(20e6/per))
		}
		n *= 4
	}
}

// cpuNsPerOp runs op n times and returns the CPU time per run.
func cpuNsPerOp(op func(), n int) float64 {
	start := cpuTime()
	for range n {
		op()
	}
	return float64(cpuTime()-start) / float64(n)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
