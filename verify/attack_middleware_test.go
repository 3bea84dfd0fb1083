package verify

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Attacks on Middleware: header variants a proxy or client may send.

func TestAttackMiddleware(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	good := token(priv, "RS256", "", goodClaims())
	other := token(priv, "RS256", "", with(goodClaims(), "sub", "admin"))
	expired := token(priv, "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()-3600))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("in")) })
	plain := Middleware(v)(ok)
	query := Middleware(v, InsecureTokenFromQuery())(ok)

	type req struct {
		name    string
		h       http.Handler
		auth    []string
		query   string
		form    string
		want    int
		wantErr string // in WWW-Authenticate
	}
	rows := []req{
		{"good", plain, []string{"Bearer " + good}, "", "", 200, ""},
		{"lower-case scheme", plain, []string{"bearer " + good}, "", "", 200, ""},
		{"upper-case scheme", plain, []string{"BEARER " + good}, "", "", 200, ""},
		{"two spaces", plain, []string{"Bearer  " + good}, "", "", 200, ""},
		{"tab separator", plain, []string{"Bearer\t" + good}, "", "", 401, ""},
		{"trailing space", plain, []string{"Bearer " + good + " "}, "", "", 401, "invalid_token"},
		{"scheme only", plain, []string{"Bearer"}, "", "", 401, ""},
		{"scheme and space", plain, []string{"Bearer "}, "", "", 400, "invalid_request"},
		{"Basic", plain, []string{"Basic dXNlcjpwYXNz"}, "", "", 401, ""},
		{"two headers", plain, []string{"Bearer " + good, "Bearer " + other}, "", "", 400, "invalid_request"},
		{"two headers, same token", plain, []string{"Bearer " + good, "Bearer " + good}, "", "", 400, "invalid_request"},
		{"comma-merged by a proxy", plain, []string{"Bearer " + good + ", Bearer " + other}, "", "", 401, "invalid_token"},
		{"Bearer then Basic merged", plain, []string{"Bearer " + good + ", Basic eA=="}, "", "", 401, "invalid_token"},
		{"expired", plain, []string{"Bearer " + expired}, "", "", 401, "invalid_token"},
		{"query without the option", plain, nil, "access_token=" + good, "", 401, ""},
		{"query with the option", query, nil, "access_token=" + good, "", 200, ""},
		{"header and query", query, []string{"Bearer " + good}, "access_token=" + good, "", 400, "invalid_request"},
		{"query twice", query, nil, "access_token=" + good + "&access_token=" + other, "", 400, "invalid_request"},
		{"query empty", query, nil, "access_token=", "", 400, "invalid_request"},
		{"header and form", query, []string{"Bearer " + good}, "", "access_token=" + good, 400, "invalid_request"},
		{"query and form", query, nil, "access_token=" + good, "access_token=" + other, 400, "invalid_request"},
		{"form", query, nil, "", "access_token=" + good, 200, ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			u := "/x"
			if row.query != "" {
				u += "?" + row.query
			}
			method, body := http.MethodGet, ""
			if row.form != "" {
				method, body = http.MethodPost, row.form
			}
			r := httptest.NewRequest(method, u, strings.NewReader(body))
			if row.form != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for _, a := range row.auth {
				r.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			row.h.ServeHTTP(w, r)
			if w.Code != row.want {
				t.Fatalf("status %d; want %d (WWW-Authenticate %q)", w.Code, row.want, w.Header().Get("WWW-Authenticate"))
			}
			if wa := w.Header().Get("WWW-Authenticate"); row.want != 200 && !strings.Contains(wa, row.wantErr) {
				t.Errorf("WWW-Authenticate %q; want %q", wa, row.wantErr)
			}
			var all strings.Builder
			all.WriteString(w.Body.String())
			for k, vs := range w.Header() {
				all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
			}
			for _, tok := range []string{good, other, expired, url.QueryEscape(good)} {
				assertNoSecret(t, all.String(), tok)
			}
		})
	}
}
