package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

// result is one case's figures, sequential and from GOMAXPROCS
// goroutines: its ratio to the floor (the median over pairs of adjacent
// batches), its lowest CPU ns/op over the batches, and its heap
// allocations per operation.
type result struct {
	name                 string
	seqNs, parNs         float64
	seqAllocs, parAllocs int64
	seqRatio, parRatio   float64
}

// measure times every case against the floor (cases[0]) in pairs of
// adjacent batches, pairs times per case and mode, and returns the results
// in the order of cases.
//
// CPU time, not wall time: on a machine shared with other work, wall time
// counts the time the benchmark waits for a core; CPU time counts the work
// done. Load still slows the work itself (shared caches, memory
// bandwidth), and it changes from second to second; a batch of the case
// and a batch of the floor run back to back see nearly the same load, so
// the ratio of each pair is steadier than either time, and the median of
// the pairs' ratios steadier still. The floor's own row, timed against
// itself, shows how much noise is left.
func measure(fx *fixture, pairs int, batchTime time.Duration, progress func(string)) ([]result, error) {
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
		out[i].name = c.name
	}
	for _, g := range []int{1, runtime.GOMAXPROCS(0)} {
		for i, f := range fns {
			ns, allocs, ratio, err := pair(fns[0], f, fx.token, g, pairs, batchTime)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cases[i].name, err)
			}
			if g == 1 {
				out[i].seqNs, out[i].seqAllocs, out[i].seqRatio = ns, allocs, ratio
			} else {
				out[i].parNs, out[i].parAllocs, out[i].parRatio = ns, allocs, ratio
			}
		}
		progress(fmt.Sprintf("%d goroutine(s) done", g))
	}
	return out, nil
}

// pair runs pairs of adjacent batches of floor and f (alternating which
// goes first) from g goroutines, and returns f's lowest CPU ns/op, its
// allocs/op and the median of the pairs' ratios.
func pair(floor, f verifyFunc, tok string, g, pairs int, batchTime time.Duration) (float64, int64, float64, error) {
	nf, err := calibrate(floor, tok, g, batchTime)
	if err != nil {
		return 0, 0, 0, err
	}
	n, err := calibrate(f, tok, g, batchTime)
	if err != nil {
		return 0, 0, 0, err
	}
	best, allocs := math.Inf(1), int64(0)
	ratios := make([]float64, 0, pairs)
	for k := range pairs {
		var fc, cc time.Duration
		var mallocs uint64
		if k%2 == 0 {
			fc, _, err = batch(floor, tok, g, nf)
			if err == nil {
				cc, mallocs, err = batch(f, tok, g, n)
			}
		} else {
			cc, mallocs, err = batch(f, tok, g, n)
			if err == nil {
				fc, _, err = batch(floor, tok, g, nf)
			}
		}
		if err != nil {
			return 0, 0, 0, err
		}
		per := float64(cc.Nanoseconds()) / float64(n)
		if per < best {
			best, allocs = per, int64(mallocs)/int64(n)
		}
		ratios = append(ratios, per/(float64(fc.Nanoseconds())/float64(nf)))
	}
	slices.Sort(ratios)
	return best, allocs, ratios[len(ratios)/2], nil
}

// calibrate returns a number of calls, a multiple of g, that takes at
// least batchTime of CPU.
func calibrate(f verifyFunc, tok string, g int, batchTime time.Duration) (int, error) {
	for n := g; ; n *= 2 {
		cpu, _, err := batch(f, tok, g, n)
		if err != nil || cpu >= batchTime || n >= 1<<30 {
			return n, err
		}
	}
}

// batch makes n calls split over g goroutines and returns the CPU time and
// heap allocations they took.
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
