package web

import (
	"errors"
	"net/http"
	"net/url"
)

// signOut: POST ends the session (after the origin check) and sends the
// browser to the provider's end_session_endpoint when it has one; GET is
// the return from there, accepted only with the state of a logout this
// browser started.
func (l *Login) signOut(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		l.signOutPost(w, r)
	case http.MethodGet:
		f, ok := l.takeFlow(w, r, r.URL.Query().Get("state"), true)
		if !ok {
			w.Header().Set("Allow", http.MethodPost)
			l.fail(w, r, http.StatusMethodNotAllowed, "Sign out with the sign-out button.", errors.New("sign-out: GET without a logout state"))
			return
		}
		http.Redirect(w, r, f.ReturnTo, http.StatusSeeOther)
	default:
		w.Header().Set("Allow", http.MethodPost)
		l.fail(w, r, http.StatusMethodNotAllowed, "Sign out with the sign-out button.", errors.New("sign-out: method "+r.Method))
	}
}

func (l *Login) signOutPost(w http.ResponseWriter, r *http.Request) {
	if !l.sameOrigin(r) {
		l.fail(w, r, http.StatusForbidden, "Sign-out must come from this site.", errors.New("sign-out: cross-origin or no Origin/Referer"))
		return
	}
	returnTo := safeReturnTo(r.PostFormValue("rd"))
	var idToken string
	s, err := l.loadSession(r.Context(), l.jar.readSession(r))
	if err == nil {
		idToken = s.idToken
		l.denied.denySession(s.id, l.cfg.Now())
		l.refresher.forget(s.id)
		l.cfg.Logger.Info("web: signed out", "sub", s.claims.Subject)
	} else {
		s = nil
	}
	l.clearSession(w, r, s)
	w.Header().Set("Cache-Control", "no-store")
	md, err := l.prov.metadata(r.Context())
	if err != nil || md.EndSessionEndpoint == "" {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	f := newFlow(returnTo, true, l.cfg.Now())
	l.saveFlow(w, r, f)
	q := url.Values{"client_id": {l.cfg.Client.ClientID}, "post_logout_redirect_uri": {l.signOutURL}, "state": {f.State}}
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	http.Redirect(w, r, withQuery(md.EndSessionEndpoint, q), http.StatusSeeOther)
}

// sameOrigin: the Origin header, or without one the Referer, is the app's
// own origin (Config.ExternalURL).
func (l *Login) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return o == l.origin
	}
	ref := originOf(r.Header.Get("Referer"))
	return ref != "" && ref == l.origin
}
