package main

import "testing"

// sequential and parallel are the cases as Go benchmarks (bench_test.go).
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
