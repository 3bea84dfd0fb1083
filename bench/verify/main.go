// Command verify benchmarks, side by side in one run, the full
// verification of an RS256 token (split, decode, verify the signature,
// decode the claims, check iss/aud/exp) by this SDK's verify package (with
// its verified-token cache off, and on), golang-jwt v5, go-jose v4, jwx v3
// and go-oidc v3 (static key set), against the crypto/rsa floor (base64 +
// SHA-256 + rsa.VerifyPKCS1v15 alone). It prints a markdown table of each
// case's CPU time as a ratio to the floor (the median of pairs of batches
// run back to back, so that a machine busy with other work moves the
// ratios little; see measure) and its allocs/op, sequential and from
// GOMAXPROCS goroutines.
//
//	cd bench/verify && go run . [-batch 20ms] [-pairs 30]
//
// The same cases run as Go benchmarks (wall time): go test -bench . -benchmem
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	batchTime := flag.Duration("batch", 20*time.Millisecond, "CPU time of one batch of calls")
	pairs := flag.Int("pairs", 30, "pairs of batches (case, floor) per case and mode")
	flag.Parse()
	if *pairs < 1 || *batchTime <= 0 {
		fmt.Fprintln(os.Stderr, "verify: -pairs and -batch must be positive")
		os.Exit(2)
	}
	fx, err := newFixture()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	start := machine()
	rs, err := measure(fx, *pairs, *batchTime, func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	fmt.Printf("%s; -batch %v -pairs %d: × floor is the median over %d pairs of adjacent batches\n\n",
		start, *batchTime, *pairs, *pairs)
	writeTable(os.Stdout, rs)
}
