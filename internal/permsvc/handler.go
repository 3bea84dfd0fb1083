package permsvc

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

func (s *Service) publicKey(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(s.PublicKeyPEM())
}

// authorize answers GET /auth/authorize?service=S with {"token": "..."}.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request) {
	u, ok := s.signedIn(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="permsvc"`)
		writeError(w, http.StatusUnauthorized, "not signed in")
		return
	}
	service := r.URL.Query().Get("service")
	if service == "" {
		writeError(w, http.StatusBadRequest, "service is required")
		return
	}
	if _, ok := u.Permissions[service]; !ok {
		writeError(w, http.StatusForbidden, "no permissions on this service")
		return
	}
	tok, err := s.Issue(u.ID, service)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot issue a token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// signedIn finds the user of a Basic or Bearer Authorization header.
func (s *Service) signedIn(r *http.Request) (User, bool) {
	if name, pass, ok := r.BasicAuth(); ok {
		u, found := s.users[name]
		match := subtle.ConstantTimeCompare([]byte(pass), []byte(u.Password)) == 1
		return u, found && u.Password != "" && match
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		id, ok := s.sessions[auth[7:]]
		u, found := s.users[id]
		return u, ok && found
	}
	return User{}, false
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
