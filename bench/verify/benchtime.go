package main

import "flag"

// setBenchtime sets testing's -test.benchtime flag ("1s", "100x"), which
// testing.Benchmark reads; the flag exists once testing.Init has run.
func setBenchtime(v string) {
	if f := flag.Lookup("test.benchtime"); f != nil {
		f.Value.Set(v)
	}
}
