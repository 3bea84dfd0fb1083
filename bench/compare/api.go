package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"
)

// api is a resource server on 127.0.0.1 that accepts a request only with a
// bearer token the idp issued, has not revoked, and that has not expired.
type api struct {
	srv  *httptest.Server
	p    *idp
	ok   atomic.Int64 // requests answered 200
	r401 atomic.Int64 // requests answered 401
}

func newAPI(p *idp) *api {
	a := &api{p: p}
	a.srv = httptest.NewServer(http.HandlerFunc(a.handle))
	return a
}

func (a *api) url() string { return a.srv.URL + "/v1/things" }

func (a *api) close() { a.srv.Close() }

func (a *api) handle(w http.ResponseWriter, r *http.Request) {
	tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || !a.p.valid(tok, time.Now()) {
		a.r401.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	a.ok.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"things":[]}`))
}
