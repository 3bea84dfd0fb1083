package grpcauth

import (
	"strings"
	"testing"
)

// FuzzBearer: bearer never panics, accepts only "Bearer " (any case) and a
// non-empty rest, and returns that rest.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer x", "bearer x", "Bearer ", "Basic x", "", "BEARER a.b.c", "Bearer\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, ok := bearer([]string{v})
		if !ok {
			return
		}
		if len(v) <= 7 || !strings.EqualFold(v[:7], "Bearer ") || tok != v[7:] || tok == "" {
			t.Fatalf("bearer(%q) = %q, true", v, tok)
		}
	})
}
