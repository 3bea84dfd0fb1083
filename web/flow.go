package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Flow limits: a flow cookie lives 10 minutes, and a browser holds at most
// maxFlows of them (parallel tabs work; cookies never pile up).
const (
	flowLifetime = 10 * time.Minute
	maxFlows     = 5
	flowIDLen    = 16 // characters of the state that name the flow cookie
)

// A flow is one login (or logout) in progress, sealed in its own cookie.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	ReturnTo string `json:"r"`
	Logout   bool   `json:"l,omitempty"`
	Created  int64  `json:"c"`
}

func newFlow(returnTo string, logout bool, now time.Time) *flow {
	f := &flow{State: randomString(32), ReturnTo: safeReturnTo(returnTo), Logout: logout, Created: now.Unix()}
	if !logout {
		f.Nonce, f.Verifier = randomString(32), randomString(32)
	}
	return f
}

// challenge is the PKCE S256 code challenge of the verifier (RFC 7636 §4.2).
func (f *flow) challenge() string {
	sum := sha256.Sum256([]byte(f.Verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (l *Login) flowCookieName(state string) string {
	if len(state) > flowIDLen {
		state = state[:flowIDLen]
	}
	return l.jar.flowPrefix() + state
}

// saveFlow sets f's cookie, first expiring the oldest flows so that at most
// maxFlows remain.
func (l *Login) saveFlow(w http.ResponseWriter, r *http.Request, f *flow) {
	type held struct {
		name    string
		created int64
	}
	var flows []held
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, l.jar.flowPrefix()) {
			continue
		}
		h := held{name: c.Name}
		if old, ok := l.openFlow(c.Name, c.Value); ok {
			h.created = old.Created
		}
		flows = append(flows, h)
	}
	sort.Slice(flows, func(i, j int) bool { return flows[i].created < flows[j].created })
	for len(flows) >= maxFlows {
		http.SetCookie(w, l.jar.cookie(flows[0].name, "", 0))
		flows = flows[1:]
	}
	plain, _ := json.Marshal(f)
	name := l.flowCookieName(f.State)
	http.SetCookie(w, l.jar.cookie(name, l.flows.seal(plain, name), flowLifetime))
}

func (l *Login) openFlow(name, value string) (*flow, bool) {
	plain, ok := l.flows.open(value, name)
	if !ok {
		return nil, false
	}
	var f flow
	if json.Unmarshal(plain, &f) != nil {
		return nil, false
	}
	return &f, true
}

// takeFlow finds the flow of state, checks the state in full, expires the
// cookie (a flow is used once), and checks the flow's age. A state that
// does not match in full leaves the cookie alone.
func (l *Login) takeFlow(w http.ResponseWriter, r *http.Request, state string, logout bool) (*flow, bool) {
	if state == "" {
		return nil, false
	}
	name := l.flowCookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	f, ok := l.openFlow(name, c.Value)
	if !ok || subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 || f.Logout != logout {
		return nil, false
	}
	http.SetCookie(w, l.jar.cookie(name, "", 0))
	age := l.cfg.Now().Sub(time.Unix(f.Created, 0))
	return f, age >= -time.Minute && age <= flowLifetime
}
