package web

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Cookie limits. Browsers keep at least 4096 bytes per cookie (name and
// value); a chunk stays well under that.
const (
	chunkSize = 3800
	maxChunks = 10
)

// jar writes and reads the middleware's cookies under one naming scheme:
// the session in name, name_1 … name_9; flows in name_f_<id>.
type jar struct {
	name   string // session cookie name, with __Host- when secure
	secure bool
}

func newJar(base string, secure bool) jar {
	if secure {
		base = "__Host-" + base
	}
	return jar{name: base, secure: secure}
}

func (j jar) chunkName(i int) string {
	if i == 0 {
		return j.name
	}
	return j.name + "_" + strconv.Itoa(i)
}

func (j jar) flowPrefix() string { return j.name + "_f_" }

// owns reports whether a cookie name is one of the middleware's: the
// session cookie, its chunks (name_1 … name_9) and the flow cookies
// (name_f_…). Other names that start like them are the app's.
func (j jar) owns(name string) bool {
	if name == j.name || strings.HasPrefix(name, j.flowPrefix()) {
		return true
	}
	for i := 1; i < maxChunks; i++ {
		if name == j.chunkName(i) {
			return true
		}
	}
	return false
}

func (j jar) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else {
		c.MaxAge = -1
	}
	return c
}

// readSession joins the session chunks the request carries ("" for none).
func (j jar) readSession(r *http.Request) string { return j.sessionFrom(r.Cookies()) }

// sessionFrom joins the session chunks among cookies.
func (j jar) sessionFrom(cookies []*http.Cookie) string {
	var chunks [maxChunks]string
	n := 0
	for _, c := range cookies {
		if !strings.HasPrefix(c.Name, j.name) {
			continue
		}
		if c.Name == j.name {
			chunks[0] = c.Value
			n = max(n, 1)
		} else if i, err := strconv.Atoi(strings.TrimPrefix(c.Name, j.name+"_")); err == nil && i > 0 && i < maxChunks && strings.HasPrefix(c.Name, j.name+"_") {
			chunks[i] = c.Value
			n = max(n, i+1)
		}
	}
	if chunks[0] == "" {
		return ""
	}
	if n == 1 {
		return chunks[0]
	}
	var sb strings.Builder
	for _, c := range chunks[:n] {
		if c == "" {
			break // a missing chunk: what follows cannot belong
		}
		sb.WriteString(c)
	}
	return sb.String()
}

// writeSession sets value in as many chunks as it needs and clears any
// chunk the request carried beyond those. ok is false when value needs more
// than maxChunks cookies; nothing is written then.
func (j jar) writeSession(w http.ResponseWriter, r *http.Request, value string, maxAge time.Duration) (ok bool) {
	n := (len(value) + chunkSize - 1) / chunkSize
	if n > maxChunks {
		return false
	}
	for i := range n {
		end := min((i+1)*chunkSize, len(value))
		http.SetCookie(w, j.cookie(j.chunkName(i), value[i*chunkSize:end], maxAge))
	}
	j.clearChunks(w, r, n)
	return true
}

// clearChunks expires the session chunks from index from on that r carries.
func (j jar) clearChunks(w http.ResponseWriter, r *http.Request, from int) {
	for i := from; i < maxChunks; i++ {
		if _, err := r.Cookie(j.chunkName(i)); err == nil {
			http.SetCookie(w, j.cookie(j.chunkName(i), "", 0))
		}
	}
}

// stripCookies removes the middleware's cookies from the request the app
// receives. The app's cookies are kept as the browser sent them (the
// header's own bytes, quotes and all), not rebuilt from the parsed ones.
func (j jar) stripCookies(r *http.Request, all []*http.Cookie) {
	mine := false
	for _, c := range all {
		mine = mine || j.owns(c.Name)
	}
	if !mine {
		return
	}
	var kept []string
	for _, line := range r.Header.Values("Cookie") {
		for _, pair := range strings.Split(line, ";") {
			pair = textproto.TrimString(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair != "" && !j.owns(textproto.TrimString(name)) {
				kept = append(kept, pair)
			}
		}
	}
	r.Header.Del("Cookie")
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}
