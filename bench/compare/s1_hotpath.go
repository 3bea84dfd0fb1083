package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// hotResult is scenario 1 for one library.
type hotResult struct {
	seqNs, parNs         float64
	seqAllocs, parAllocs int64
	seqBytes, parBytes   int64
}

// hotSetups are the setups scenario 1 measures: the three defaults, and
// cloud's AddAuthorizationMiddleware, the way its docs offer to add auth
// to an existing client (httptransport.NewClient's extra header layer
// copies the header map and checks the universe domain per request).
func hotSetups() []setup { return append(defaults(), setup{libGoogle, variantMiddleware}) }

// runHotPath measures a request with a valid cached token over a no-op
// transport, from one goroutine and from GOMAXPROCS goroutines, with
// testing.Benchmark: the shapes of base's BenchmarkRoundTrip and
// BenchmarkRoundTripParallel, with each library's token from the loopback
// endpoint (one fetch, then cached for an hour).
func runHotPath(p params) (map[setup]hotResult, error) {
	idp, err := newIDP(time.Hour)
	if err != nil {
		return nil, err
	}
	defer idp.close()
	rts := map[setup]http.RoundTripper{}
	for _, s := range hotSetups() {
		c, err := newClient(s.lib, env{tokenURL: idp.url(), next: noopRT{}, lifetime: time.Hour, variant: s.variant})
		if err != nil {
			return nil, err
		}
		defer c.close()
		if _, err := c.rt.RoundTrip(benchRequest()); err != nil { // fetch and cache the token
			return nil, fmt.Errorf("%s: warm-up: %w", s.lib, err)
		}
		rts[s] = c.rt
	}
	// Rounds interleave the libraries, so that a burst of load from
	// elsewhere on the machine touches all three alike; the median round
	// of each is kept.
	seq, par := map[setup][]testing.BenchmarkResult{}, map[setup][]testing.BenchmarkResult{}
	setBenchtime(p.benchtime)
	for range max(p.benchCount, 1) {
		for _, su := range hotSetups() {
			rt := rts[su]
			seq[su] = append(seq[su], testing.Benchmark(func(b *testing.B) { benchSeq(b, rt) }))
			par[su] = append(par[su], testing.Benchmark(func(b *testing.B) { benchPar(b, rt) }))
		}
	}
	out := map[setup]hotResult{}
	for _, su := range hotSetups() {
		s, q := median(seq[su]), median(par[su])
		out[su] = hotResult{seqNs: nsPerOp(s), parNs: nsPerOp(q), seqAllocs: s.AllocsPerOp(), parAllocs: q.AllocsPerOp(),
			seqBytes: s.AllocedBytesPerOp(), parBytes: q.AllocedBytesPerOp()}
	}
	return out, nil
}

func benchRequest() *http.Request {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://api.example.test/v1/things", nil)
	req.Header.Set("Accept", "application/json")
	return req
}

func benchSeq(b *testing.B, rt http.RoundTripper) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPar(b *testing.B, rt http.RoundTripper) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest()
		for pb.Next() {
			if _, err := rt.RoundTrip(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// median returns the run with the median ns/op.
func median(runs []testing.BenchmarkResult) testing.BenchmarkResult {
	runs = slices.Clone(runs)
	slices.SortFunc(runs, func(a, b testing.BenchmarkResult) int { return cmp.Compare(nsPerOp(a), nsPerOp(b)) })
	return runs[len(runs)/2]
}

func nsPerOp(r testing.BenchmarkResult) float64 {
	if r.N == 0 {
		return -1
	}
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

func hotRows(res map[setup]hotResult) []row {
	const sc = "1 hot path"
	cell := func(ns float64, allocs, bytes int64) string {
		return fmt.Sprintf("%.0f ns · %d allocs · %d B", ns, allocs, bytes)
	}
	seq := func(r hotResult) string { return cell(r.seqNs, r.seqAllocs, r.seqBytes) }
	par := func(r hotResult) string { return cell(r.parNs, r.parAllocs, r.parBytes) }
	def := func(f func(hotResult) string) map[string]string {
		return cells(func(n string) string { return f(res[setup{lib: n}]) })
	}
	mw := func(f func(hotResult) string) map[string]string {
		return cells(func(n string) string {
			if r, ok := res[setup{n, variantMiddleware}]; ok {
				return f(r)
			}
			return "(one setup)"
		})
	}
	setupRow := cells(func(n string) string {
		return map[string]string{libSDK: "base.NewTransport", libOAuth2: "oauth2.Transport over ReuseTokenSource",
			libGoogle: "httptransport.NewClient"}[n]
	})
	return []row{
		{sc, "setup", setupRow, ""},
		{sc, "1 goroutine: ns/op · allocs/op · B/op", def(seq), ""},
		{sc, "parallel (GOMAXPROCS): ns/op · allocs/op · B/op", def(par), ""},
		{sc, "1 goroutine, cloud through AddAuthorizationMiddleware on a plain client", mw(seq), ""},
		{sc, "parallel, cloud through AddAuthorizationMiddleware", mw(par), ""},
	}
}
