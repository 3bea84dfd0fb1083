// Command verify benchmarks, side by side in one run, the full
// verification of an RS256 token (split, decode, verify the signature,
// decode the claims, check iss/aud/exp) by this SDK's verify package (with
// its verified-token cache off, and on), golang-jwt v5, go-jose v4, jwx v3
// and go-oidc v3 (static key set), against the crypto/rsa floor (base64 +
// SHA-256 + rsa.VerifyPKCS1v15 alone). It prints a markdown table of
// ns/op and allocs/op, sequential and under RunParallel, with each time as a
// ratio to the floor measured in the same run.
//
//	cd bench/verify && go run . [-benchtime 1s] [-rounds 3]
//
// The same cases run as Go benchmarks: go test -bench . -benchmem
package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

func main() {
	testing.Init() // registers test.benchtime, which testing.Benchmark reads
	benchtime := flag.Duration("benchtime", time.Second, "time per case, per mode, per round")
	rounds := flag.Int("rounds", 3, "rounds (the table shows each figure's median)")
	flag.Parse()
	if *rounds < 1 || *benchtime <= 0 {
		fmt.Fprintln(os.Stderr, "verify: -rounds and -benchtime must be positive")
		os.Exit(2)
	}
	setBenchtime(benchtime.String())
	fx, err := newFixture()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	start := machine()
	rs, err := measure(fx, *rounds, func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	fmt.Printf("%s; -benchtime %v, median of %d rounds\n\n", start, *benchtime, *rounds)
	writeTable(os.Stdout, rs)
}
