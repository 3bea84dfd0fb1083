package main

import (
	"flag"
	"time"
)

// setBenchtime sets testing's -test.benchtime flag, which testing.Benchmark
// reads. The flag exists once testing.Init has run.
func setBenchtime(d time.Duration) {
	if f := flag.Lookup("test.benchtime"); f != nil {
		f.Value.Set(d.String())
	}
}
