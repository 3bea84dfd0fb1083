package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSignedInRequest is the middleware's cost for a signed-in user's
// request to a protected page with a realistic cookie session (the app does
// nothing).
func BenchmarkSignedInRequest(b *testing.B) {
	l := benchLogin(b)
	s := realisticSession(keycloakRefresh())
	s.expiry = l.cfg.Now().Add(1 << 40)
	w := httptest.NewRecorder()
	l.saveSession(w, httptest.NewRequest("GET", "/", nil), s)
	cookie := w.Result().Cookies()[0]
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/private/x", nil)
	req.AddCookie(cookie)
	req.AddCookie(&http.Cookie{Name: "app", Value: "1"})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := req.Clone(req.Context())
		h.ServeHTTP(nopWriter{}, r)
	}
}

func benchLogin(b *testing.B) *Login {
	l, err := New(Config{Issuer: "https://id.example", Client: testClient, ExternalURL: "https://app.example",
		ProtectedPaths: []string{"/private/"}, SessionSecret: "benchmark secret, 32 bytes or more", Logger: slogTo(&logBuffer{})})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriter) WriteHeader(int)             {}

// BenchmarkAppAlone is the same request straight to the app: the
// difference to BenchmarkSignedInRequest is the middleware's cost.
func BenchmarkAppAlone(b *testing.B) {
	l := benchLogin(b)
	s := realisticSession(keycloakRefresh())
	w := httptest.NewRecorder()
	l.saveSession(w, httptest.NewRequest("GET", "/", nil), s)
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	req := httptest.NewRequest("GET", "/private/x", nil)
	req.AddCookie(w.Result().Cookies()[0])
	req.AddCookie(&http.Cookie{Name: "app", Value: "1"})
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(nopWriter{}, req.Clone(req.Context()))
	}
}
