package main

import (
	"fmt"
	"slices"
	"testing"
)

// result is one case's median figures over the rounds.
type result struct {
	name                 string
	seqNs, parNs         float64
	seqAllocs, parAllocs int64
}

// measure runs every case sequentially and with RunParallel, rounds times,
// interleaved (so a burst of load on the machine hits every case alike),
// and returns the medians in the order of cases.
func measure(fx *fixture, rounds int, progress func(string)) ([]result, error) {
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
	seq := make([][]testing.BenchmarkResult, len(cases))
	par := make([][]testing.BenchmarkResult, len(cases))
	for r := range rounds {
		for i, f := range fns {
			seq[i] = append(seq[i], testing.Benchmark(sequential(f, fx.token)))
			par[i] = append(par[i], testing.Benchmark(parallel(f, fx.token)))
		}
		progress(fmt.Sprintf("round %d/%d done", r+1, rounds))
	}
	out := make([]result, len(cases))
	for i, c := range cases {
		out[i] = result{name: c.name, seqNs: medianNs(seq[i]), parNs: medianNs(par[i]),
			seqAllocs: medianAllocs(seq[i]), parAllocs: medianAllocs(par[i])}
	}
	return out, nil
}

func sequential(f verifyFunc, tok string) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := f(tok); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func parallel(f verifyFunc, tok string) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := f(tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
}

func medianNs(rs []testing.BenchmarkResult) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = float64(r.T.Nanoseconds()) / float64(max(r.N, 1))
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func medianAllocs(rs []testing.BenchmarkResult) int64 {
	v := make([]int64, len(rs))
	for i, r := range rs {
		v[i] = r.AllocsPerOp()
	}
	slices.Sort(v)
	return v[len(v)/2]
}
