package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// writeTable prints the results as a markdown table, each time as a ratio
// to the crypto/rsa floor measured in the same run (results[0]).
func writeTable(w io.Writer, rs []result) {
	floor := rs[0]
	fmt.Fprintln(w, "| library | CPU ns/op | allocs/op | × floor | parallel CPU ns/op | parallel allocs/op | parallel × floor |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %d | %s |\n", r.name, grouped(r.seqNs), r.seqAllocs,
			ratio(r.seqNs/floor.seqNs), grouped(r.parNs), r.parAllocs, ratio(r.parNs/floor.parNs))
	}
}

// ratio shows two decimals, three below 0.1.
func ratio(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// grouped formats ns with thousands separators, one decimal below 100.
func grouped(ns float64) string {
	if ns < 100 {
		return fmt.Sprintf("%.1f", ns)
	}
	s := fmt.Sprintf("%.0f", ns)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// machine describes where the numbers were taken.
func machine() string {
	return fmt.Sprintf("%s/%s, %s, %d cores (GOMAXPROCS %d), %s, %s, load average %s", runtime.GOOS, runtime.GOARCH,
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadAverage())
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
