// Package countingidp is a token endpoint (client credentials, RFC 6749
// §4.4) with short-lived tokens that counts its token requests, and a
// protected API that accepts only its live tokens: the peer of the fleet
// example and test.
package countingidp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReplicaHeader names the replica (its pid) that made a token request.
const ReplicaHeader = "X-Replica"

// Request is one token request received.
type Request struct {
	At      time.Time
	Replica string
}

// IdP issues tokens living Lifetime. Its handler serves /token and /api.
type IdP struct {
	Lifetime time.Duration

	mu       sync.Mutex
	live     map[string]time.Time // token -> expiry
	requests []Request
	stall    chan Request  // when set, the next token request is reported here and stalls
	release  chan struct{} // closed to let a stalled request answer
	refused  int
}

// New returns an IdP whose tokens live lifetime (whole seconds on the
// wire, as expires_in).
func New(lifetime time.Duration) *IdP {
	return &IdP{Lifetime: lifetime, live: map[string]time.Time{}}
}

func (p *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/token":
		p.token(w, r)
	case "/api":
		p.api(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	req := Request{At: time.Now(), Replica: r.Header.Get(ReplicaHeader)}
	p.mu.Lock()
	p.requests = append(p.requests, req)
	stall, release := p.stall, p.release
	p.stall = nil
	p.mu.Unlock()
	if stall != nil {
		stall <- req
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "stalled", http.StatusServiceUnavailable)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "tok-" + hex.EncodeToString(b)
	p.mu.Lock()
	p.live[tok] = time.Now().Add(p.Lifetime)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(p.Lifetime / time.Second)})
}

func (p *IdP) api(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	exp, known := p.live[tok]
	if !ok || !known || time.Now().After(exp) {
		p.refused++
		p.mu.Unlock()
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	p.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

// Requests returns the token requests received so far.
func (p *IdP) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Refused counts API calls refused for a missing, unknown or expired token.
func (p *IdP) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// StallNext makes the next token request stall: it is sent on the
// returned channel and answers 503 when release is called.
func (p *IdP) StallNext() (stalled <-chan Request, release func()) {
	c, r := make(chan Request, 1), make(chan struct{})
	p.mu.Lock()
	p.stall, p.release = c, r
	p.mu.Unlock()
	var once sync.Once
	return c, func() { once.Do(func() { close(r) }) }
}

// Count returns how many requests fall in [from, to).
func Count(reqs []Request, from, to time.Time) int {
	n := 0
	for _, r := range reqs {
		if !r.At.Before(from) && r.At.Before(to) {
			n++
		}
	}
	return n
}

// PID parses a Request's replica.
func (r Request) PID() int { n, _ := strconv.Atoi(r.Replica); return n }
