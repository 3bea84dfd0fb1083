package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"
)

// benchAPIKey is the X-Api-Key every library sends in scenario 6.
const benchAPIKey = "bench-api-key"

// redirectResult is scenario 6 for one library: which credentials reached
// the host a redirect pointed at.
type redirectResult struct {
	originAuth                      bool // sanity: the first host did get credentials
	hostAuth, hostKey               bool // 127.0.0.1 → localhost
	downgradeAuth, downgradeKey     bool // https → http
	hostFollowed, downgradeFollowed bool
}

// recorder is a plain-http server that notes which credentials reached it.
type recorder struct {
	srv       *httptest.Server
	hits      atomic.Int64
	auth, key atomic.Bool
}

func newRecorder() *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if req.Header.Get("Authorization") != "" {
			r.auth.Store(true)
		}
		if req.Header.Get("X-Api-Key") != "" {
			r.key.Store(true)
		}
	}))
	return r
}

// redirector answers 302 to target, noting whether credentials came along.
func redirector(target string, sawAuth *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		http.Redirect(w, req, target, http.StatusFound)
	})
}

// runRedirect follows a redirect from 127.0.0.1 to localhost (another
// host), and from an https server to a plain http one, with each library.
// The peers also run with the standard library's http.Client.CheckRedirect
// refusing such redirects (variantCheckRedirect): their way to stop the
// leak.
func runRedirect(p params) (map[setup]redirectResult, error) {
	return eachSetup(false, append(defaults(), peers(variantCheckRedirect)...), redirectOne)
}

func redirectOne(su setup) (redirectResult, error) {
	idp, err := newIDP(time.Hour)
	if err != nil {
		return redirectResult{}, err
	}
	defer idp.close()
	other, plain := newRecorder(), newRecorder()
	defer other.srv.Close()
	defer plain.srv.Close()
	var originAuth, tlsAuth atomic.Bool
	localhostURL := strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1) + "/landing"
	origin := httptest.NewServer(redirector(localhostURL, &originAuth))
	defer origin.Close()
	secure := httptest.NewTLSServer(redirector(plain.srv.URL+"/landing", &tlsAuth))
	defer secure.Close()

	next := newHTTPTransport(4)
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	next.TLSClientConfig = &tls.Config{RootCAs: pool}
	c, err := newClient(su.lib, env{tokenURL: idp.url(), next: next, apiKey: benchAPIKey, lifetime: time.Hour, variant: su.variant})
	if err != nil {
		return redirectResult{}, err
	}
	defer c.close()
	sendWithin(c, origin.URL+"/v1/things", 5*time.Second)
	sendWithin(c, secure.URL+"/v1/things", 5*time.Second)
	return redirectResult{
		originAuth:        originAuth.Load() && tlsAuth.Load(),
		hostAuth:          other.auth.Load(),
		hostKey:           other.key.Load(),
		hostFollowed:      other.hits.Load() > 0,
		downgradeAuth:     plain.auth.Load(),
		downgradeKey:      plain.key.Load(),
		downgradeFollowed: plain.hits.Load() > 0,
	}, nil
}

func redirectRows(res map[setup]redirectResult) []row {
	const sc = "6 redirect"
	leak := func(followed, auth, key bool) string {
		if !followed {
			return "redirect not followed"
		}
		switch {
		case auth && key:
			return "both leaked"
		case auth:
			return "Authorization leaked"
		case key:
			return "X-Api-Key leaked"
		}
		return "nothing leaked"
	}
	host := func(r redirectResult) string { return leak(r.hostFollowed, r.hostAuth, r.hostKey) }
	down := func(r redirectResult) string { return leak(r.downgradeFollowed, r.downgradeAuth, r.downgradeKey) }
	def := func(f func(redirectResult) string) map[string]string {
		return cells(func(n string) string { return f(res[setup{lib: n}]) })
	}
	cr := func(f func(redirectResult) string) map[string]string {
		return variantCells(variantCheckRedirect, func(s setup) string { return f(res[s]) })
	}
	apiKey := cells(func(n string) string {
		return map[string]string{libSDK: "base.WithAPIKey", libOAuth2: "harness's header RoundTripper (no API-key feature)",
			libGoogle: "httptransport.Options.Headers"}[n]
	})
	sane := func(r redirectResult) string { return yesNo(r.originAuth) }
	return []row{
		{sc, "X-Api-Key added by", apiKey, ""},
		{sc, "127.0.0.1 → localhost: credentials at the other host", def(host), "nothing leaked"},
		{sc, "https → http: credentials over plain http", def(down), "nothing leaked"},
		{sc, "first host got credentials (sanity)", def(sane), "yes"},
		{sc + ", peers' http.Client with CheckRedirect (same host and scheme only)", "127.0.0.1 → localhost", cr(host), ""},
		{sc + ", peers' http.Client with CheckRedirect (same host and scheme only)", "https → http", cr(down), ""},
		{sc + ", peers' http.Client with CheckRedirect (same host and scheme only)", "first host got credentials (sanity)", cr(sane), ""},
	}
}
