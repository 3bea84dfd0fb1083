package web

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
)

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<meta charset="utf-8"><title>{{.Status}} {{.Text}}</title>
<h1>{{.Text}}</h1><p>{{.Message}}</p><p><small>Request id {{.ID}}</small></p>
`))

// fail answers with a plain error page (status, a message for people, a
// request id) and logs cause with the same id. cause must hold no secret:
// the causes made here and by package tokenwire never do.
func (l *Login) fail(w http.ResponseWriter, r *http.Request, status int, message string, cause error) {
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	l.cfg.Logger.Warn("web: request failed", "request_id", id, "status", status, "path", r.URL.Path, "error", cause.Error())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorPage.Execute(w, struct {
		Status            int
		Text, Message, ID string
	}{status, http.StatusText(status), message, id})
}
