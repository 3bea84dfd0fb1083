package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// sample is one API request as the caller saw it.
type sample struct {
	start time.Time
	dur   time.Duration // until the answer (or the error) came back
	added time.Duration // time the authorizing layer held the request
	ok    bool          // a 200 answer
}

// send makes one GET to url through c with ctx and returns its sample.
func send(ctx context.Context, c *client, url string) sample {
	s, _ := sendErr(ctx, c, url)
	return s
}

// sendErr is send that also returns the request's error.
func sendErr(ctx context.Context, c *client, url string) (sample, error) {
	p := &probe{start: time.Now()}
	req, err := http.NewRequestWithContext(withProbe(ctx, p), http.MethodGet, url, nil)
	if err != nil {
		return sample{start: p.start}, err
	}
	resp, err := c.http.Do(req)
	s := sample{start: p.start, ok: err == nil && resp.StatusCode == http.StatusOK}
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
	}
	s.dur = time.Since(p.start)
	s.added = p.added(s.dur)
	return s, err
}

// load is a steady request load: workers goroutines, each sending one
// request every interval (starting at a random offset) until stop returns
// true or the deadline passes.
type load struct {
	workers  int
	interval time.Duration
	timeout  time.Duration // per request
	deadline time.Time
	stop     func() bool    // optional early stop, checked before each request
	observe  func(s sample) // optional, called with each sample as it is taken
}

// run drives c against url and returns every sample, in no order.
func (l load) run(c *client, url string) []sample {
	var mu sync.Mutex // guards all
	var all []sample
	var wg sync.WaitGroup
	for range l.workers {
		wg.Go(func() {
			var mine []sample
			next := time.Now().Add(rand.N(l.interval))
			for {
				time.Sleep(time.Until(next))
				if time.Now().After(l.deadline) || (l.stop != nil && l.stop()) {
					break
				}
				ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
				s := send(ctx, c, url)
				cancel()
				if l.observe != nil {
					l.observe(s)
				}
				mine = append(mine, s)
				next = next.Add(l.interval)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

// split separates samples into those that succeeded and those that failed.
func split(ss []sample) (ok, failed []sample) {
	for _, s := range ss {
		if s.ok {
			ok = append(ok, s)
		} else {
			failed = append(failed, s)
		}
	}
	return ok, failed
}

// quantile returns the q-quantile (0..1) of f over ss, or -1 when empty.
func quantile(ss []sample, q float64, f func(sample) time.Duration) time.Duration {
	if len(ss) == 0 {
		return -1
	}
	ds := make([]time.Duration, len(ss))
	for i, s := range ss {
		ds[i] = f(s)
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

func durOf(s sample) time.Duration   { return s.dur }
func addedOf(s sample) time.Duration { return s.added }

// sendWithin is send with a context that ends after d.
func sendWithin(c *client, url string, d time.Duration) sample {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return send(ctx, c, url)
}
