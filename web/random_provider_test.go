package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
)

// rndProvider sits in front of a fakeIdP's handler and makes its refresh
// grants misbehave at random (seeded): a temporary 503 (nothing consumed),
// a refusal (invalid_grant; the grant is revoked), or a slow answer. It
// gives every token answer a random access-token lifetime, and it detects
// refresh-token reuse the way strict providers do: a refresh token
// presented a second time after it was redeemed revokes its whole grant.
type rndProvider struct {
	next  http.Handler
	clock *clock
	now   func() ended // the scenario's event counter and generation

	mu         sync.Mutex
	rng        *rand.Rand
	family     map[string]string    // refresh token → its grant ("sid#n": one per code grant)
	grants     int                  // code grants so far
	sidRevoked map[string]bool      // sid → a grant of it was revoked
	consumed   map[string]bool      // redeemed refresh tokens (true: redeemed successfully)
	revoked    map[string]bool      // families whose grant was revoked
	due        map[string]time.Time // refresh token → when its access token entered its gap
	refused    map[string]ended     // family → when the random refusal was made
	stats      map[string]int
	pTemp      float64 // chance a refresh answers 503
	pRefuse    float64 // chance a refresh is refused
}

func newRndProvider(idp *fakeIdP, seed uint64, now func() ended) *rndProvider {
	return &rndProvider{
		next: idp.srv.Config.Handler, clock: idp.clock, now: now,
		rng:    rand.New(rand.NewPCG(seed, 0x5eed)),
		family: map[string]string{}, sidRevoked: map[string]bool{}, consumed: map[string]bool{}, revoked: map[string]bool{},
		due: map[string]time.Time{}, refused: map[string]ended{}, stats: map[string]int{},
		pTemp: 0.15, pRefuse: 0.04,
	}
}

func (p *rndProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		p.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if form.Get("grant_type") != "refresh_token" {
		p.pass(w, r, "")
		return
	}
	rt := form.Get("refresh_token")
	fam, slow, verdict := p.decide(rt)
	if slow > 0 {
		time.Sleep(slow) // load only: nothing asserts on time
	}
	switch verdict {
	case "ok":
		p.pass(w, r, fam)
	case "temporary":
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant"})
	}
}

// decide records the presentation of rt and picks the answer.
func (p *rndProvider) decide(rt string) (fam string, slow time.Duration, verdict string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fam = p.family[rt]
	p.stats["refresh requests"]++
	if p.rng.IntN(4) == 0 {
		slow = time.Duration(p.rng.IntN(3000)) * time.Microsecond
	}
	if ok, seen := p.consumed[rt]; seen {
		if ok && !p.revoked[fam] {
			p.stats["REUSE of a rotated refresh token (grant revoked)"]++
		} else {
			p.stats["REUSE of a token of a refused grant"]++
		}
		p.revoke(fam)
		return fam, slow, "refused"
	}
	if p.revoked[fam] || fam == "" {
		p.stats["refresh of a revoked grant"]++
		return fam, slow, "refused"
	}
	if d, ok := p.due[rt]; ok && p.clock.Now().Before(d) {
		p.stats["early refresh (informational: a clock jump between the middleware reading the clock and sending makes it legitimate)"]++
	}
	x := p.rng.Float64()
	switch {
	case x < p.pTemp:
		p.stats["refresh answered 503"]++
		return fam, slow, "temporary"
	case x < p.pTemp+p.pRefuse:
		p.stats["refresh refused at random"]++
		p.consumed[rt] = false
		p.revoke(fam)
		p.refused[fam] = p.now()
		return fam, slow, "refused"
	}
	p.consumed[rt] = true
	p.stats["refresh granted"]++
	return fam, slow, "ok"
}

// revoke ends grant fam; p.mu is held.
func (p *rndProvider) revoke(fam string) {
	p.revoked[fam] = true
	sid, _, _ := strings.Cut(fam, "#")
	p.sidRevoked[sid] = true
}

// grantOf is the grant a refresh token belongs to.
func (p *rndProvider) grantOf(rt string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.family[rt]
}

// pass lets the fake answer, then gives the answer a random access-token
// lifetime and files its refresh token under fam (the login's sid for a
// code grant).
func (p *rndProvider) pass(w http.ResponseWriter, r *http.Request, fam string) {
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	var m map[string]any
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	p.mu.Lock()
	if fam == "" {
		p.grants++
		fam = sidOf(m["id_token"]) + "#" + strconv.Itoa(p.grants)
	}
	ttl := []time.Duration{40 * time.Second, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}[p.rng.IntN(4)]
	if rt, _ := m["refresh_token"].(string); rt != "" {
		p.family[rt] = fam
		// The earliest the middleware may refresh: its gap is at most
		// data.ExpirationGap, and it counts expires_in from no earlier
		// than now.
		p.due[rt] = p.clock.Now().Add(ttl - data.ExpirationGap)
	}
	p.mu.Unlock()
	m["expires_in"] = int(ttl / time.Second)
	writeJSON(w, 200, m)
}

// sidOf reads the sid of an ID token (unverified; the test's own token).
func sidOf(idToken any) string {
	raw, _ := idToken.(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Sid string `json:"sid"`
	}
	json.Unmarshal(payload, &c)
	return c.Sid
}

// hintClaims makes the fake's ID tokens name user u with sid "sid-u~b~n"
// when the login hint is "u~b~n" (browser b's n-th login): several
// browsers per user, and a new sid for every login, as real providers do.
func hintClaims(claims map[string]any) {
	hint, _ := claims["sub"].(string)
	user, _, ok := strings.Cut(hint, "~")
	if !ok {
		return
	}
	claims["sub"], claims["sid"], claims["email"] = user, "sid-"+hint, user+"@example.test"
}
