package main

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Base's default WithBackoff bounds (base/options.go).
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// backoffDelay simulates, from the formula in base/backoff.go (1 s floor,
// ceiling min(30 s, 1 s·2^(n-1)) after the n-th consecutive failure, full
// jitter in between), how long after an outage of length d ends this
// SDK's next token request goes out when callers keep asking and no token
// exists. A failed try takes lat in the outage's first half (503 answers)
// and nothing in the second (refused connections), as in scenario 3b. It
// returns the median and 99th percentile over n simulated outages with a
// fixed seed; the design's bound is maxBackoff.
func backoffDelay(d, lat time.Duration, n int) (p50, p99 time.Duration) {
	rng := rand.New(rand.NewPCG(19, 5))
	delays := make([]time.Duration, n)
	for i := range delays {
		t, failures := time.Duration(0), 0
		for t < d {
			if t < d/2 {
				t += lat
			}
			failures++
			ceiling := maxBackoff
			if shift := failures - 1; shift < 32 {
				ceiling = min(ceiling, minBackoff<<shift)
			}
			t += minBackoff + time.Duration(rng.Int64N(int64(ceiling-minBackoff)+1))
		}
		delays[i] = t - d
	}
	slices.Sort(delays)
	return delays[n/2], delays[n*99/100]
}
