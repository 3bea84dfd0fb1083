package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the results table: a measure of one scenario, with a
// value per library and this SDK's target.
type row struct {
	scenario string
	measure  string
	values   map[string]string // library name -> value
	target   string            // this SDK's target, if the issue sets one
}

// cells builds a row's values from one function per library.
func cells(f func(lib string) string) map[string]string {
	m := make(map[string]string, len(libNames))
	for _, n := range libNames {
		m[n] = f(n)
	}
	return m
}

// fmtDur prints d with three significant figures; "-" for a negative d
// (nothing measured).
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3g s", d.Seconds())
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeTable prints rows as an aligned text table.
func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\tmeasure\t%s\ttarget (authorizer)\n", strings.Join(libNames, "\t"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s", r.scenario, r.measure)
		for _, n := range libNames {
			fmt.Fprintf(tw, "\t%s", r.values[n])
		}
		fmt.Fprintf(tw, "\t%s\n", r.target)
	}
	tw.Flush()
}

// writeCSV writes rows with a header line.
func writeCSV(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	cw.Write(append(append([]string{"scenario", "measure"}, libNames...), "target_authorizer"))
	for _, r := range rows {
		rec := []string{r.scenario, r.measure}
		for _, n := range libNames {
			rec = append(rec, r.values[n])
		}
		cw.Write(append(rec, r.target))
	}
	cw.Flush()
	return cw.Error()
}

// writeMarkdown writes the machine line, the table and the notes.
func writeMarkdown(w io.Writer, p params, rows []row, mode string, elapsed time.Duration) {
	fmt.Fprintf(w, "# authorizer vs x/oauth2 vs cloud.google.com/go/auth\n\n")
	fmt.Fprintf(w, "Machine: %s. Run: `%s`, %s.\n\n", machine(), mode, elapsed.Round(time.Second))
	fmt.Fprintf(w, "Versions: %s.\n\n", versions())
	writeMarkdownTable(w, rows)
	fmt.Fprint(w, notes(p))
}

// writeMarkdownTable writes rows as a Markdown table.
func writeMarkdownTable(w io.Writer, rows []row) {
	fmt.Fprintf(w, "| scenario | measure | %s | target (authorizer) |\n", strings.Join(libNames, " | "))
	fmt.Fprintf(w, "|---|---|%s---|\n", strings.Repeat("---|", len(libNames)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |", r.scenario, r.measure)
		for _, n := range libNames {
			fmt.Fprintf(w, " %s |", r.values[n])
		}
		fmt.Fprintf(w, " %s |\n", r.target)
	}
}

// machine describes where the run happened, with the load average when
// the run started (other work on a small machine moves the figures).
func machine() string {
	return fmt.Sprintf("%s/%s, %s, %d cores, %s, %s, load average at start %s", runtime.GOOS, runtime.GOARCH, cpuModel(),
		runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"), startLoad)
}

// startLoad is the 1-minute load average when the process started.
var startLoad = loadAverage()

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// cpuModel reads the CPU model from /proc/cpuinfo, or "unknown CPU".
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

// versions lists the compared modules' versions from the build info.
func versions() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var out []string
	for _, d := range bi.Deps {
		switch d.Path {
		case "golang.org/x/oauth2", "cloud.google.com/go/auth":
			out = append(out, d.Path+" "+d.Version)
		case "github.com/seed-d44eba79/authorizer":
			out = append(out, "authorizer (this checkout)")
		}
	}
	return strings.Join(out, ", ")
}
