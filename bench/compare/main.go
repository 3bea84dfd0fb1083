// Command compare drives this SDK (base.Transport), golang.org/x/oauth2
// (oauth2.Transport over clientcredentials' ReuseTokenSource) and
// cloud.google.com/go/auth (its cached token provider in httptransport)
// through the same seven scenarios against a token endpoint and an API on
// 127.0.0.1, and prints one table: a figure per scenario and library, each
// taken from counters and clocks in the run.
//
//	cd bench/compare && go run . [-quick] [-scenarios 1,2,...] [-out DIR]
//
// -out writes DIR/results.md and DIR/results.csv; -quick shortens every
// scenario (whole run under a minute) for smoke runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func main() {
	testing.Init() // registers test.benchtime, which testing.Benchmark reads
	quick := flag.Bool("quick", false, "shorter scenarios for smoke runs (under a minute)")
	only := flag.String("scenarios", "1,2,3,4,5,6,7", "comma-separated scenario numbers to run")
	outDir := flag.String("out", "", "directory to write results.md and results.csv to")
	flag.Parse()

	p, mode := fullParams, "go run ."
	if *quick {
		p, mode = quickParams, "go run . -quick"
	}
	start := time.Now()
	rows, err := runScenarios(p, strings.Split(*only, ","), func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\n\n", machine())
	writeTable(os.Stdout, rows)
	if *outDir != "" {
		if err := writeFiles(*outDir, rows, mode, time.Since(start)); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
}

// runScenarios runs the scenarios named in which, in order, and returns
// their rows. progress gets one line per scenario.
func runScenarios(p params, which []string, progress func(string)) ([]row, error) {
	type scenario struct {
		id  string
		run func() ([]row, error)
	}
	all := []scenario{
		{"1", func() ([]row, error) { r, err := runHotPath(p); return hotRows(r), err }},
		{"2", func() ([]row, error) { r, f, err := runRefresh(p); return refreshRows(p, r, f), err }},
		{"3", func() ([]row, error) { r, err := runOutage(p); return outageRows(p, r), err }},
		{"4", func() ([]row, error) { r, err := runCancel(p); return cancelRows(p, r), err }},
		{"5", func() ([]row, error) { r, err := runStorm(p); return stormRows(p, r), err }},
		{"6", func() ([]row, error) { r, err := runRedirect(p); return redirectRows(r), err }},
		{"7", func() ([]row, error) { r, err := runRetryAfter(p); return retryRows(p, r), err }},
	}
	var rows []row
	for _, s := range all {
		if !slices.Contains(which, s.id) {
			continue
		}
		t := time.Now()
		rs, err := s.run()
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.id, err)
		}
		progress(fmt.Sprintf("scenario %s done in %s", s.id, time.Since(t).Round(time.Millisecond)))
		rows = append(rows, rs...)
	}
	return rows, nil
}

// writeFiles writes results.md and results.csv into dir.
func writeFiles(dir string, rows []row, mode string, elapsed time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	md, err := os.Create(filepath.Join(dir, "results.md"))
	if err != nil {
		return err
	}
	writeMarkdown(md, rows, mode, elapsed)
	if err := md.Close(); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		return err
	}
	if err := writeCSV(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
