package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// probe travels in a request's context so that the innermost RoundTripper
// can stamp when the authorizing layer handed the request on: the
// difference from start is the wait the token handling added.
type probe struct {
	start   time.Time
	handoff atomic.Int64 // UnixNano of the first hand-off, 0 until then
}

type probeKey struct{}

func withProbe(ctx context.Context, p *probe) context.Context {
	return context.WithValue(ctx, probeKey{}, p)
}

// added returns how long the request waited before it was handed to the
// network, or total when it never was.
func (p *probe) added(total time.Duration) time.Duration {
	h := p.handoff.Load()
	if h == 0 {
		return total
	}
	return time.Duration(h - p.start.UnixNano())
}

// stampRT records the hand-off time of requests that carry a probe, then
// sends them with next.
type stampRT struct{ next http.RoundTripper }

func (s stampRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if p, ok := req.Context().Value(probeKey{}).(*probe); ok {
		p.handoff.CompareAndSwap(0, time.Now().UnixNano())
	}
	return s.next.RoundTrip(req)
}

// headerRT adds one header to every request, the way a user adds an API
// key to a library that has no option for it. It copies the header map,
// as the RoundTripper contract requires.
type headerRT struct {
	name, value string
	next        http.RoundTripper
}

func (h headerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := new(http.Request)
	*r2 = *req
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = http.Header{}
	}
	r2.Header.Set(h.name, h.value)
	return h.next.RoundTrip(r2)
}

// attempt is one token request as the client saw it.
type attempt struct {
	at  time.Time
	dur time.Duration
	ok  bool // a 200 answer arrived
}

// countRT records every token request a library makes, including those
// that never reach the endpoint (connection refused).
type countRT struct {
	next http.RoundTripper
	mu   sync.Mutex // guards log
	log  []attempt
}

func (c *countRT) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.next.RoundTrip(req)
	a := attempt{at: start, dur: time.Since(start), ok: err == nil && resp.StatusCode == http.StatusOK}
	c.mu.Lock()
	c.log = append(c.log, a)
	c.mu.Unlock()
	return resp, err
}

// attempts returns a copy of the log, by start time.
func (c *countRT) attempts() []attempt {
	c.mu.Lock()
	out := append([]attempt(nil), c.log...)
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b attempt) int { return a.at.Compare(b.at) })
	return out
}

// between counts the attempts started in [from, to).
func between(as []attempt, from, to time.Time) []attempt {
	var out []attempt
	for _, a := range as {
		if !a.at.Before(from) && a.at.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// minGap returns the shortest time between two consecutive attempts, or
// -1 when there are fewer than two.
func minGap(as []attempt) time.Duration {
	if len(as) < 2 {
		return -1
	}
	g := time.Duration(1<<63 - 1)
	for i := 1; i < len(as); i++ {
		g = min(g, as[i].at.Sub(as[i-1].at))
	}
	return g
}

// noopRT answers every request without I/O, for the hot-path benchmark
// (the same shape as base's benchmarks: one shared response).
type noopRT struct{}

var noopResp = &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}

func (noopRT) RoundTrip(*http.Request) (*http.Response, error) { return noopResp, nil }

// newHTTPTransport returns a fresh connection pool sized for conns
// concurrent requests to one host.
func newHTTPTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns + 10
	t.MaxIdleConnsPerHost = conns + 10
	return t
}
