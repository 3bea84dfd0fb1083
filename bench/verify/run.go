package main

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// result is one case's best figures over the rounds: CPU time per
// operation (the process's user + system time, GC included) and heap
// allocations per operation, sequential and from GOMAXPROCS goroutines.
type result struct {
	name                 string
	seqNs, parNs         float64
	seqAllocs, parAllocs int64
}

// measure runs every case sequentially and in parallel, rounds times,
// interleaved, and returns each case's lowest CPU ns/op per mode with
// that round's allocations, in the order of cases.
//
// CPU time, not wall time: on a machine shared with other work, wall time
// counts the time the benchmark waits for a core; CPU time counts only the
// work done. The fastest round is the closest to the cost itself.
func measure(fx *fixture, rounds int, benchtime time.Duration, progress func(string)) ([]result, error) {
	fns := make([]verifyFunc, len(cases))
	for i, c := range cases {
		f, err := c.make(fx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		if err := f(fx.token); err != nil {
			return nil, fmt.Errorf("%s refuses the benchmark token: %w", c.name, err)
		}
		fns[i] = f
	}
	out := make([]result, len(cases))
	for i, c := range cases {
		out[i] = result{name: c.name, seqNs: math.Inf(1), parNs: math.Inf(1)}
	}
	for r := range rounds {
		for i, f := range fns {
			if ns, allocs, err := run(f, fx.token, 1, benchtime); err != nil {
				return nil, fmt.Errorf("%s: %w", cases[i].name, err)
			} else if ns < out[i].seqNs {
				out[i].seqNs, out[i].seqAllocs = ns, allocs
			}
			if ns, allocs, err := run(f, fx.token, runtime.GOMAXPROCS(0), benchtime); err != nil {
				return nil, fmt.Errorf("%s: %w", cases[i].name, err)
			} else if ns < out[i].parNs {
				out[i].parNs, out[i].parAllocs = ns, allocs
			}
		}
		progress(fmt.Sprintf("round %d/%d done", r+1, rounds))
	}
	return out, nil
}

// run calls f on tok from g goroutines in batches that double until one
// batch takes at least benchtime of CPU, and returns that batch's CPU
// ns/op and allocs/op.
func run(f verifyFunc, tok string, g int, benchtime time.Duration) (float64, int64, error) {
	for n := g; ; n *= 2 {
		cpu, allocs, err := batch(f, tok, g, n)
		if err != nil {
			return 0, 0, err
		}
		if cpu >= benchtime || n >= 1<<30 {
			return float64(cpu.Nanoseconds()) / float64(n), int64(allocs) / int64(n), nil
		}
	}
}

// batch makes n calls split over g goroutines.
func batch(f verifyFunc, tok string, g, n int) (time.Duration, uint64, error) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := cpuTime()
	var wg sync.WaitGroup
	errs := make([]error, g)
	for w := range g {
		wg.Go(func() {
			for range n / g {
				if err := f(tok); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	c1 := cpuTime()
	runtime.ReadMemStats(&m1)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	return c1 - c0, m1.Mallocs - m0.Mallocs, nil
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic("getrusage: " + err.Error())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
