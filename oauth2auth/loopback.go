package oauth2auth

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// callbackPath is the redirect URI's path on the loopback server.
const callbackPath = "/callback"

// shutdownGrace is how long the loopback server waits for the landing page
// to reach the browser before it closes the remaining connections.
const shutdownGrace = 2 * time.Second

// loopbackServer is a one-shot HTTP server on 127.0.0.1 and a random port
// that receives the authorization response (RFC 8252 §7.3). It accepts the
// first callback whose state matches; callbacks with another state are
// answered with an error page and ignored, so a forged request can neither
// inject a code nor end the sign-in. close stops it and waits for its
// goroutine.
type loopbackServer struct {
	redirectURI string
	result      chan callbackResult // buffered 1: the accepted callback
	srv         *http.Server
	done        chan struct{} // closed when Serve has returned

	state, issuer string
	landing       *template.Template
	logger        *slog.Logger
	once          sync.Once // the first matching callback wins
}

// callbackResult is an accepted authorization response.
type callbackResult struct {
	code string // secret: never logged
	err  error
}

// startLoopback listens on 127.0.0.1:0 and serves the callback until close.
func startLoopback(state, issuer string, landing *template.Template, logger *slog.Logger) (*loopbackServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "oauth2auth: cannot listen on the loopback interface", Err: err}
	}
	s := &loopbackServer{
		redirectURI: "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + callbackPath,
		result:      make(chan callbackResult, 1), done: make(chan struct{}),
		state: state, issuer: issuer, landing: landing, logger: logger,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { // ends when close shuts the server down
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// handle checks one authorization response (RFC 6749 §4.1.2, RFC 9207).
func (s *loopbackServer) handle(w http.ResponseWriter, r *http.Request) {
	if "http://"+r.Host+callbackPath != s.redirectURI {
		// Not addressed as 127.0.0.1:<port>, e.g. a DNS-rebinding page.
		s.render(w, http.StatusBadRequest, Landing{Error: "This sign-in response was not expected (wrong host)."})
		return
	}
	q := r.URL.Query()
	if !equalSecret(q.Get("state"), s.state) {
		s.logger.Warn("oauth2auth: ignored a sign-in callback with a wrong state")
		s.render(w, http.StatusBadRequest, Landing{Error: "This sign-in response was not expected (wrong state). Start the sign-in from the tool again."})
		return
	}
	res := s.check(q)
	accepted := false
	s.once.Do(func() { accepted = true })
	switch {
	case !accepted:
		s.render(w, http.StatusConflict, Landing{Error: "This sign-in was already completed."})
		return
	case res.err != nil:
		s.render(w, http.StatusBadRequest, Landing{Error: res.err.Error()})
	default:
		s.render(w, http.StatusOK, Landing{OK: true})
	}
	// The page is out before the sign-in goes on (and may end the server).
	s.result <- res
}

// check turns the callback's query into a code or an error.
func (s *loopbackServer) check(q map[string][]string) callbackResult {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if iss := get("iss"); iss != "" && s.issuer != "" && iss != s.issuer {
		return callbackResult{err: &authorizer.AuthorizationError{Code: "invalid_issuer",
			Message: "oauth2auth: the authorization response came from another issuer (RFC 9207)"}}
	}
	if code := get("error"); code != "" {
		return callbackResult{err: &authorizer.AuthorizationError{Code: tokenwire.Clean(code), Description: tokenwire.Clean(get("error_description")),
			URI: tokenwire.Clean(get("error_uri")), Message: "oauth2auth: the authorization server refused the sign-in"}}
	}
	code := get("code")
	if code == "" {
		return callbackResult{err: &authorizer.AuthorizationError{
			Message: "oauth2auth: the authorization response has no code"}}
	}
	return callbackResult{code: code}
}

// render writes the landing page in full (with its length) and flushes
// it.
func (s *loopbackServer) render(w http.ResponseWriter, status int, l Landing) {
	var page bytes.Buffer
	if err := s.landing.Execute(&page, l); err != nil {
		s.logger.Warn("oauth2auth: landing page template failed", slog.Any("error", err))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(page.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(page.Bytes())
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// wait returns the accepted callback, or an error when ctx ends first.
func (s *loopbackServer) wait(ctx context.Context) (string, error) {
	select {
	case res := <-s.result:
		return res.code, res.err
	case <-ctx.Done():
		return "", wireError(ctx, "no sign-in response arrived", ctx.Err())
	}
}

// close shuts the server down, giving the landing page shutdownGrace to be
// delivered, and waits for the serving goroutine to end.
func (s *loopbackServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = s.srv.Close()
	}
	<-s.done
}
