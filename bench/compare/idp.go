package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Token endpoint modes.
const (
	modeOK       int32 = iota // issue tokens
	mode503                   // answer 503 temporarily_unavailable
	modeThrottle              // answer 429 with Retry-After during a window
)

// Client credentials the endpoint accepts.
const (
	clientID     = "bench-client"
	clientSecret = "bench-secret"
)

// idp is a client-credentials token endpoint on 127.0.0.1 that the
// scenarios control: latency, failure mode, token lifetime, and whether it
// accepts connections at all. It records every request it receives and
// every token it issues, so the resource server can check them.
type idp struct {
	addr string // 127.0.0.1:port, kept across down/up

	latency    atomic.Int64 // nanoseconds each answer is delayed
	lifetime   atomic.Int64 // seconds, the expires_in of new tokens
	mode       atomic.Int32
	retryAfter atomic.Int64 // seconds, for modeThrottle
	// hold, when set, keeps every answer back until the channel is closed
	// (the smoke test holds a refresh open with it).
	hold atomic.Pointer[chan struct{}]

	mu            sync.Mutex // guards srv, throttleUntil, arrivals, issued, revokedBelow
	srv           *http.Server
	throttleUntil time.Time
	arrivals      []time.Time
	issued        map[string]issuedToken
	revokedBelow  int64 // tokens with a lower serial are refused
	serial        int64
}

type issuedToken struct {
	serial int64
	expiry time.Time
}

// newIDP starts the endpoint with tokens of the given lifetime.
func newIDP(lifetime time.Duration) (*idp, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &idp{addr: ln.Addr().String(), issued: map[string]issuedToken{}}
	p.lifetime.Store(int64(lifetime / time.Second))
	p.serve(ln)
	return p, nil
}

func (p *idp) url() string { return "http://" + p.addr + "/token" }

func (p *idp) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 5 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go srv.Serve(ln) // ends when down or close calls srv.Close
}

// down closes the listener and every connection: token requests are
// refused until up.
func (p *idp) down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (p *idp) up() error {
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func (p *idp) close() { p.down() }

// throttle makes the endpoint answer 429 with Retry-After: after for
// `after` from the first request it gets, then issue tokens again.
func (p *idp) throttle(after time.Duration) {
	p.mu.Lock()
	p.throttleUntil = time.Time{}
	p.mu.Unlock()
	p.retryAfter.Store(int64(after / time.Second))
	p.mode.Store(modeThrottle)
}

// requests returns the arrival times of all token requests so far.
func (p *idp) requests() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.arrivals...)
}

// revokeAll makes every token issued so far refused by the API.
func (p *idp) revokeAll() {
	p.mu.Lock()
	p.revokedBelow = p.serial + 1
	p.mu.Unlock()
}

// valid reports whether tok was issued here, is not revoked and has not
// expired.
func (p *idp) valid(tok string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	it, ok := p.issued[tok]
	return ok && it.serial >= p.revokedBelow && now.Before(it.expiry)
}

func (p *idp) handle(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.arrivals = append(p.arrivals, time.Now())
	p.mu.Unlock()
	if h := p.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-r.Context().Done():
			return
		}
	}
	if problem := checkTokenRequest(r); problem != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	select {
	case <-time.After(time.Duration(p.latency.Load())):
	case <-r.Context().Done():
		return
	}
	switch p.mode.Load() {
	case mode503:
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "maintenance")
		return
	case modeThrottle:
		if wait := p.throttleLeft(); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			writeOAuthError(w, http.StatusTooManyRequests, "slow_down", "too many requests")
			return
		}
	}
	p.issue(w)
}

// throttleLeft starts the throttle window on its first request and returns
// how much of it is left.
func (p *idp) throttleLeft() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.throttleUntil.IsZero() {
		p.throttleUntil = now.Add(time.Duration(p.retryAfter.Load()) * time.Second)
	}
	return p.throttleUntil.Sub(now)
}

func (p *idp) issue(w http.ResponseWriter) {
	life := p.lifetime.Load()
	p.mu.Lock()
	p.serial++
	tok := fmt.Sprintf("tok-%d", p.serial)
	p.issued[tok] = issuedToken{serial: p.serial, expiry: time.Now().Add(time.Duration(life) * time.Second)}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": life})
}

// checkTokenRequest checks what went over the wire: a POSTed form with
// grant_type=client_credentials and the client's credentials.
func checkTokenRequest(r *http.Request) string {
	if r.Method != http.MethodPost {
		return fmt.Sprintf("method %q; want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return fmt.Sprintf("content type %q; want a form", ct)
	}
	if err := r.ParseForm(); err != nil {
		return "unreadable form"
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		return fmt.Sprintf("grant_type %q; want client_credentials", gt)
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != clientID || secret != clientSecret {
		return "unknown client"
	}
	return ""
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
