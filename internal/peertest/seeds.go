package peertest

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Seeds is the seed set of a randomized test: defaults, or the one seed in
// the environment variable env (to replay a failure), plus as many seeds
// from the clock as env+"S" asks for (to widen a run).
func Seeds(t testing.TB, env string, defaults ...uint64) []uint64 {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		return []uint64{n}
	}
	seeds := append([]uint64(nil), defaults...)
	if s := os.Getenv(env + "S"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%sS: %v", env, err)
		}
		base := uint64(time.Now().UnixNano())
		for i := range k {
			seeds = append(seeds, base+uint64(i)*7919)
		}
	}
	return seeds
}
