package main

import (
	"fmt"
	"sync"
)

// eachLib runs f for every library, one after another or all at once (for
// scenarios whose figures are counts and whole milliseconds, which three
// light loads side by side do not disturb), and collects the results.
func eachLib[T any](parallel bool, f func(name string) (T, error)) (map[string]T, error) {
	out := make(map[string]T, len(libNames))
	var mu sync.Mutex // guards out, firstErr
	var firstErr error
	one := func(name string) {
		r, err := f(name)
		mu.Lock()
		defer mu.Unlock()
		out[name] = r
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", name, err)
		}
	}
	var wg sync.WaitGroup
	for _, name := range libNames {
		if parallel {
			wg.Go(func() { one(name) })
		} else {
			one(name)
		}
	}
	wg.Wait()
	return out, firstErr
}
