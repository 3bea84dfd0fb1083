package web

import (
	"sync"
	"time"
)

// denyList remembers, within this process, the sessions that ended while
// their cookies may still be sent: back-channel logouts by sid or sub, and
// sessions whose refresh was refused. Entries are kept for the session
// lifetime (no session that began before a logout outlives it). A logout
// by sid or sub ends the sessions created at or before it.
type denyList struct {
	keep time.Duration

	mu       sync.Mutex           // guards the maps and swept
	swept    time.Time            // last sweep of expired entries
	sids     map[string]time.Time // provider session id → when logged out
	subs     map[string]time.Time // subject → logout time; sessions created before it end
	sidless  map[string]time.Time // subject → logout time, for sessions whose ID token had no sid
	sessions map[string]time.Time // our session id → when ended
}

func newDenyList(keep time.Duration) *denyList {
	return &denyList{keep: keep, sids: map[string]time.Time{}, subs: map[string]time.Time{}, sidless: map[string]time.Time{}, sessions: map[string]time.Time{}}
}

func (d *denyList) denies(s *session) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.sessions[s.id]; ok {
		return true
	}
	// Like subs, a sid ends the sessions that began before its logout: a
	// later sign-in that the provider gives the same sid is a new session
	// (denying it would send the browser round the login forever).
	if t, ok := d.sids[s.claims.SessionID]; ok && s.claims.SessionID != "" && !s.created.After(t) {
		return true
	}
	if t, ok := d.sidless[s.claims.Subject]; ok && s.claims.SessionID == "" && !s.created.After(t) {
		return true
	}
	t, ok := d.subs[s.claims.Subject]
	return ok && !s.created.After(t)
}

func (d *denyList) denySID(sid string, now time.Time)     { d.add(d.sids, sid, now) }
func (d *denyList) denySub(sub string, now time.Time)     { d.add(d.subs, sub, now) }
func (d *denyList) denySidless(sub string, now time.Time) { d.add(d.sidless, sub, now) }
func (d *denyList) denySession(id string, now time.Time)  { d.add(d.sessions, id, now) }

func (d *denyList) add(m map[string]time.Time, key string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m[key] = now
	// Sweep at most once a minute: a scan on every add made n sign-outs
	// cost O(n²) under the lock every signed-in request takes.
	if now.Sub(d.swept) < time.Minute && !now.Before(d.swept) {
		return
	}
	d.swept = now
	for _, mm := range []map[string]time.Time{d.sids, d.subs, d.sidless, d.sessions} {
		for k, t := range mm {
			if now.Sub(t) > d.keep {
				delete(mm, k)
			}
		}
	}
}

// seenSet remembers logout token jtis until their token could no longer be
// accepted (maxLogoutAge after its iat).
type seenSet struct {
	mu   sync.Mutex           // guards seen
	seen map[string]time.Time // jti → iat
}

func newSeenSet() *seenSet { return &seenSet{seen: map[string]time.Time{}} }

// forget drops jti: its logout failed on our side, and will come again.
func (s *seenSet) forget(jti string) {
	s.mu.Lock()
	delete(s.seen, jti)
	s.mu.Unlock()
}

// first reports whether jti is new, and remembers it.
func (s *seenSet) first(jti string, iat, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[jti]; ok {
		return false
	}
	for k, t := range s.seen {
		if now.Sub(t) > 2*maxLogoutAge {
			delete(s.seen, k)
		}
	}
	s.seen[jti] = iat
	return true
}
