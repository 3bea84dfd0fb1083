package base

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// noopTransport answers every request without I/O, so the benchmarks
// measure only the authorizing RoundTripper.
type noopTransport struct{ resp *http.Response }

func (n noopTransport) RoundTrip(*http.Request) (*http.Response, error) { return n.resp, nil }

var benchResp = &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}

func validToken() *oauth2.Token {
	return &oauth2.Token{AccessToken: "bench-access-token", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
}

// benchTransports are the two RoundTrippers compared, each holding a valid
// token over a no-op inner transport: this SDK's Transport, and
// x/oauth2's Transport over ReuseTokenSource (its recommended setup).
func benchTransports(b *testing.B) map[string]http.RoundTripper {
	ours := NewTransport(FromTokenSource(oauth2.StaticTokenSource(validToken())), WithBase(noopTransport{benchResp}))
	b.Cleanup(func() { ours.Close() })
	theirs := &oauth2.Transport{
		Source: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(validToken())),
		Base:   noopTransport{benchResp},
	}
	return map[string]http.RoundTripper{"impl=authorizer": ours, "impl=x-oauth2": theirs}
}

func benchRequest(b *testing.B) *http.Request {
	req, err := http.NewRequest(http.MethodGet, "https://api.example.test/v1/things", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	return req
}

// BenchmarkRoundTrip compares the hot path (valid cached token) of this
// SDK and x/oauth2, one goroutine. Run: go test -bench=RoundTrip -benchmem ./base
func BenchmarkRoundTrip(b *testing.B) {
	for _, name := range []string{"impl=authorizer", "impl=x-oauth2"} {
		b.Run(name, func(b *testing.B) {
			tr := benchTransports(b)[name]
			req := benchRequest(b)
			if _, err := tr.RoundTrip(req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTripParallel is BenchmarkRoundTrip from GOMAXPROCS
// goroutines at once.
func BenchmarkRoundTripParallel(b *testing.B) {
	for _, name := range []string{"impl=authorizer", "impl=x-oauth2"} {
		b.Run(name, func(b *testing.B) {
			tr := benchTransports(b)[name]
			if _, err := tr.RoundTrip(benchRequest(b)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := benchRequest(b)
				for pb.Next() {
					if _, err := tr.RoundTrip(req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
