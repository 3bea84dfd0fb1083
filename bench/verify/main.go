// Command verify benchmarks, side by side in one run, the full
// verification of an RS256 token (split, decode, verify the signature,
// decode the claims, check iss/aud/exp) by this SDK's verify package (with
// its verified-token cache off, and on), golang-jwt v5, go-jose v4, jwx v3
// and go-oidc v3 (static key set), against the crypto/rsa floor (base64 +
// SHA-256 + rsa.VerifyPKCS1v15 alone). It prints a markdown table of CPU
// ns/op and allocs/op, sequential and from GOMAXPROCS goroutines, with each
// time as a ratio to the floor measured in the same run. Cases run in
// interleaved rounds; each figure is the case's fastest round. CPU time
// rather than wall time, so that a machine busy with other work slows the
// figures little: see measure.
//
//	cd bench/verify && go run . [-benchtime 200ms] [-rounds 10]
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
	benchtime := flag.Duration("benchtime", 200*time.Millisecond, "CPU time per case, per mode, per round")
	rounds := flag.Int("rounds", 10, "interleaved rounds (the table shows each case's fastest)")
	flag.Parse()
	if *rounds < 1 || *benchtime <= 0 {
		fmt.Fprintln(os.Stderr, "verify: -rounds and -benchtime must be positive")
		os.Exit(2)
	}
	fx, err := newFixture()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	start := machine()
	rs, err := measure(fx, *rounds, *benchtime, func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
	fmt.Printf("%s; -benchtime %v, fastest of %d interleaved rounds\n\n", start, *benchtime, *rounds)
	writeTable(os.Stdout, rs)
}
