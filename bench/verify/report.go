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

// writeTable prints the results as a markdown table. The ratios to the
// crypto/rsa floor (results[0], whose own ratio shows the noise) are the
// figures to compare; ns/op is each ratio times the floor's fastest batch,
// since raw times of rows measured seconds apart see different loads.
func writeTable(w io.Writer, rs []result) {
	floor := rs[0]
	fmt.Fprintln(w, "| library | × floor | CPU ns/op at the floor's best | allocs/op | parallel × floor | parallel allocs/op |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %d |\n", r.name, ratio(r.seqRatio), grouped(r.seqRatio*floor.seqNs),
			r.seqAllocs, ratio(r.parRatio), r.parAllocs)
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
