package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// backChannelEvent is the event a logout token must carry (OpenID Connect
// Back-Channel Logout 1.0 §2.4).
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// maxLogoutAge is how old (by iat) a logout token may be.
const maxLogoutAge = 5 * time.Minute

// logoutRetryAfter is the Retry-After of a back-channel logout answered
// 503: the failure was ours (the Login closing, the key source or the
// session store failing), not the token's, and the provider may retry.
const logoutRetryAfter = "5"

// backChannelLogout takes a logout token (§2.5), verifies it (§2.6) and
// ends every session of its sid or sub. It answers 200; 400 with an error
// (§2.8) for a token that is refused; 503 with Retry-After when the
// failure is ours (the Login closed or closing, the provider's keys or the
// session store unavailable), so that a provider that retries delivers it
// again. A token answered 503 is not remembered as seen: its retry is not
// a replay.
func (l *Login) backChannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	sid, sub, jti, err := l.checkLogoutToken(r.Context(), r.PostFormValue("logout_token"))
	if err != nil && (temporary(err) || l.life.Err() != nil) {
		l.cfg.Logger.Warn("web: back-channel logout could not be checked; answered 503", "error", err.Error())
		logoutUnavailable(w, "logout token could not be checked")
		return
	}
	if err != nil {
		l.cfg.Logger.Warn("web: back-channel logout refused", "error", err.Error())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_request"}` + "\n"))
		return
	}
	if err := l.endSessions(r.Context(), sid, sub); err != nil {
		l.cfg.Logger.Error("web: back-channel logout: session store failed", "error", err.Error())
		l.jtis.forget(jti) // the provider's retry is not a replay
		logoutUnavailable(w, "session store unavailable")
		return
	}
	l.cfg.Logger.Info("web: back-channel logout", "sub", sub, "sid", sid)
	w.WriteHeader(http.StatusOK)
}

func logoutUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", logoutRetryAfter)
	http.Error(w, msg, http.StatusServiceUnavailable)
}

type logoutClaims struct {
	SessionID string                     `json:"sid"`
	Events    map[string]json.RawMessage `json:"events"`
	Nonce     json.RawMessage            `json:"nonce"` // non-nil when present, even as null
}

// checkLogoutToken returns the sid, sub and jti of a valid logout token.
func (l *Login) checkLogoutToken(ctx context.Context, raw string) (sid, sub, jti string, err error) {
	if raw == "" {
		return "", "", "", errors.New("no logout_token")
	}
	c, err := l.logouts.Verify(ctx, raw)
	if err != nil {
		return "", "", "", err
	}
	var lc logoutClaims
	if err := c.Decode(&lc); err != nil {
		return "", "", "", err
	}
	ev, ok := lc.Events[backChannelEvent]
	switch {
	case !ok || len(ev) == 0 || ev[0] != '{':
		return "", "", "", errors.New("no backchannel-logout event")
	case lc.Nonce != nil:
		return "", "", "", errors.New("logout token with a nonce")
	case lc.SessionID == "" && c.Subject == "":
		return "", "", "", errors.New("logout token with neither sid nor sub")
	case c.IssuedAt.IsZero():
		return "", "", "", errors.New("logout token without iat")
	case c.ID == "":
		return "", "", "", errors.New("logout token without jti")
	}
	now := l.cfg.Now()
	if now.Sub(c.IssuedAt) > maxLogoutAge {
		return "", "", "", errors.New("logout token too old")
	}
	if !l.jtis.first(c.ID, c.IssuedAt, now) {
		return "", "", "", errors.New("logout token replayed (jti seen)")
	}
	return lc.SessionID, c.Subject, c.ID, nil
}

// endSessions ends the sessions of sid (or, without one, of sub): in this
// process through the deny list, and in the store by deleting them. A
// token with both also ends the sessions of sub whose ID token had no sid
// (they cannot be told apart).
func (l *Login) endSessions(ctx context.Context, sid, sub string) error {
	now := l.cfg.Now()
	var tags []string
	switch {
	case sid == "":
		l.denied.denySub(sub, now)
		tags = []string{"sub:" + sub}
	case sub == "":
		l.denied.denySID(sid, now)
		tags = []string{"sid:" + sid}
	default:
		l.denied.denySID(sid, now)
		l.denied.denySidless(sub, now)
		tags = []string{"sid:" + sid, "nosid:" + sub}
	}
	if l.cfg.SessionStore == nil {
		return nil
	}
	for _, tag := range tags {
		if err := l.cfg.SessionStore.DeleteTag(ctx, tag); err != nil {
			return err
		}
	}
	return nil
}
