// Command compare drives this SDK (base.Transport), golang.org/x/oauth2
// (oauth2.Transport over clientcredentials' ReuseTokenSource) and
// cloud.google.com/go/auth (its cached token provider in httptransport)
// through the same seven scenarios against a token endpoint and an API on
// 127.0.0.1, and prints one table: a figure per scenario and library, each
// taken from counters and clocks in the run.
//
//	cd bench/compare && go run . [-quick] [-scenarios 1,2,...] [-out DIR] [-readme FILE]
//
// -out writes DIR/results.md and DIR/results.csv; -readme writes the
// README's comparison section (all seven scenarios only);
// -quick shortens every scenario for smoke runs (see quickDuration).
// run.sh is the documented full run: it writes all three.
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

// Durations of a run on 2 cores, stated once for the flag help, the
// README section and run.sh's comment.
const (
	fullDuration  = "about 5 minutes"
	quickDuration = "about 1 minute"
)

func main() {
	testing.Init() // registers test.benchtime, which testing.Benchmark reads
	quick := flag.Bool("quick", false, "shorter scenarios for smoke runs ("+quickDuration+")")
	only := flag.String("scenarios", "1,2,3,4,5,6,7", "comma-separated scenario numbers to run")
	outDir := flag.String("out", "", "directory to write results.md and results.csv to")
	readme := flag.String("readme", "", "file to write the README's comparison section to (needs all seven scenarios)")
	flag.Parse()
	if *readme != "" && *only != "1,2,3,4,5,6,7" {
		fmt.Fprintln(os.Stderr, "compare: -readme needs all seven scenarios")
		os.Exit(2)
	}

	p, mode := fullParams, "go run ."
	if *quick {
		p, mode = quickParams, "go run . -quick"
	}
	start := time.Now()
	rows, res, err := runScenarios(p, strings.Split(*only, ","), func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\n\n", machine())
	writeTable(os.Stdout, rows)
	elapsed := time.Since(start)
	if *outDir != "" {
		if err := writeFiles(*outDir, p, rows, mode, elapsed); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
	if *readme != "" {
		if err := writeReadmeFile(*readme, p, res, rows, mode, elapsed); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
}

// results are the scenarios' figures, for the README section.
type results struct {
	hot      map[setup]hotResult
	refresh  map[string][]refreshResult
	floors   []refreshFloor
	outage   map[setup][]outageResult
	cancel   map[string]cancelResult
	storm    map[string]stormResult
	redirect map[setup]redirectResult
	retry    map[string]retryResult
}

// runScenarios runs the scenarios named in which, in order, and returns
// their rows. progress gets one line per scenario.
func runScenarios(p params, which []string, progress func(string)) ([]row, *results, error) {
	type scenario struct {
		id  string
		run func() ([]row, error)
	}
	res := &results{}
	all := []scenario{
		{"1", func() (rs []row, err error) { res.hot, err = runHotPath(p); return hotRows(res.hot), err }},
		{"2", func() (rs []row, err error) {
			res.refresh, res.floors, err = runRefresh(p)
			return refreshRows(p, res.refresh, res.floors), err
		}},
		{"3", func() (rs []row, err error) { res.outage, err = runOutage(p); return outageRows(p, res.outage), err }},
		{"4", func() (rs []row, err error) { res.cancel, err = runCancel(p); return cancelRows(p, res.cancel), err }},
		{"5", func() (rs []row, err error) { res.storm, err = runStorm(p); return stormRows(p, res.storm), err }},
		{"6", func() (rs []row, err error) {
			res.redirect, err = runRedirect(p)
			return redirectRows(res.redirect), err
		}},
		{"7", func() (rs []row, err error) { res.retry, err = runRetryAfter(p); return retryRows(p, res.retry), err }},
	}
	var rows []row
	for _, s := range all {
		if !slices.Contains(which, s.id) {
			continue
		}
		t := time.Now()
		rs, err := s.run()
		if err != nil {
			return nil, nil, fmt.Errorf("scenario %s: %w", s.id, err)
		}
		progress(fmt.Sprintf("scenario %s done in %s", s.id, time.Since(t).Round(time.Millisecond)))
		rows = append(rows, rs...)
	}
	return rows, res, nil
}

// writeFiles writes results.md and results.csv into dir.
func writeFiles(dir string, p params, rows []row, mode string, elapsed time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	md, err := os.Create(filepath.Join(dir, "results.md"))
	if err != nil {
		return err
	}
	writeMarkdown(md, p, rows, mode, elapsed)
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
