package main

import (
	"fmt"
	"sync"
)

// setup is one library in one setup: variant "" is its default.
type setup struct{ lib, variant string }

func (s setup) String() string {
	if s.variant == "" {
		return s.lib
	}
	return s.lib + " (" + s.variant + ")"
}

// defaults is every library in its default setup.
func defaults() []setup {
	ss := make([]setup, len(libNames))
	for i, n := range libNames {
		ss[i] = setup{lib: n}
	}
	return ss
}

// peers is the peers in variant v.
func peers(v string) []setup { return []setup{{libOAuth2, v}, {libGoogle, v}} }

// eachLib runs f for every library in its default setup; see eachSetup.
func eachLib[T any](parallel bool, f func(name string) (T, error)) (map[string]T, error) {
	res, err := eachSetup(parallel, defaults(), func(s setup) (T, error) { return f(s.lib) })
	out := make(map[string]T, len(res))
	for s, r := range res {
		out[s.lib] = r
	}
	return out, err
}

// eachSetup runs f for every setup in ss, one after another or all at once
// (for scenarios whose figures are counts and whole milliseconds, which a
// few light loads side by side do not disturb), and collects the results.
func eachSetup[T any](parallel bool, ss []setup, f func(s setup) (T, error)) (map[setup]T, error) {
	out := make(map[setup]T, len(ss))
	var mu sync.Mutex // guards out, firstErr
	var firstErr error
	one := func(s setup) {
		r, err := f(s)
		mu.Lock()
		defer mu.Unlock()
		out[s] = r
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", s, err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range ss {
		if parallel {
			wg.Go(func() { one(s) })
		} else {
			one(s)
		}
	}
	wg.Wait()
	return out, firstErr
}

// variantCells builds a row for the peers in variant v; this SDK's cell
// says it has the one setup shown above.
func variantCells(v string, f func(s setup) string) map[string]string {
	return cells(func(n string) string {
		if n == libSDK {
			return "(default only)"
		}
		return f(setup{n, v})
	})
}
