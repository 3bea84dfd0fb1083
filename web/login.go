package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"github.com/seed-d44eba79/authorizer/verify"
)

// Login is the sign-in middleware made by New. It is safe for concurrent
// use; Close releases its key source.
type Login struct {
	cfg   Config
	rules []pathRule
	jar   jar

	sessions, flows, ids *sealer

	prov     *provider
	keys     verify.KeySource
	idTokens *verify.Verifier // ID tokens
	logouts  *verify.Verifier // back-channel logout tokens (exp optional)

	callbackURL, signOutURL, origin string

	refresher *refresher
	opened    openedCache

	// life is cancelled by Close: it ends the refresh grants in flight,
	// whose goroutines running counts.
	life    context.Context
	stop    context.CancelFunc
	running sync.WaitGroup
	denied  *denyList
	jtis    *seenSet
}

// New checks cfg and returns the middleware. It does not contact the
// provider: discovery happens on the first request that needs it, and is
// retried by the next one when it fails. Errors are
// *[authorizer.InvalidConfigError] naming the Config field.
func New(cfg Config) (*Login, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	l := &Login{cfg: cfg, jar: newJar(cfg.CookieName, strings.HasPrefix(cfg.ExternalURL, "https://"))}
	for _, p := range cfg.ProtectedPaths {
		r, _ := parseRule(p)
		l.rules = append(l.rules, r)
	}
	secrets := append([]string{cfg.SessionSecret}, cfg.OlderSessionSecrets...)
	if l.sessions, err = newSealer(purposeSession, secrets); err != nil {
		return nil, err
	}
	l.flows, _ = newSealer(purposeFlow, secrets)
	l.ids, _ = newSealer(purposeStoreID, secrets)
	if err := l.setUpVerifiers(); err != nil {
		return nil, err
	}
	rule := endpoint.Rule{AllowHTTP: cfg.InsecureAllowHTTP}
	l.prov = &provider{issuer: cfg.Issuer, rule: rule, fetch: func(ctx context.Context, u string) (tokenwire.Answer, error) {
		return tokenwire.Fetch(ctx, cfg.HTTPClient, u)
	}}
	l.callbackURL = cfg.ExternalURL + cfg.CallbackPath
	l.signOutURL = cfg.ExternalURL + cfg.SignOutPath
	l.origin = originOf(cfg.ExternalURL)
	l.life, l.stop = context.WithCancel(context.Background())
	l.refresher = newRefresher(l)
	l.denied = newDenyList(cfg.SessionLifetime)
	l.jtis = newSeenSet()
	if cfg.Disabled {
		cfg.Logger.Warn("web: sign-in is DISABLED by configuration (Config.Disabled): protected paths are open to everyone")
	}
	return l, nil
}

func (l *Login) setUpVerifiers() error {
	var srcOpts []verify.Option
	if l.cfg.HTTPClient != nil {
		srcOpts = append(srcOpts, verify.WithHTTPClient(l.cfg.HTTPClient))
	}
	if l.cfg.InsecureAllowHTTP {
		srcOpts = append(srcOpts, verify.InsecureAllowHTTP())
	}
	l.keys = verify.Discover(l.cfg.Issuer, append(srcOpts, verify.WithLogger(l.cfg.Logger))...)
	want := verify.Expect{Issuer: l.cfg.Issuer, Audience: []string{l.cfg.Client.ClientID}}
	opts := []verify.Option{verify.WithClock(l.cfg.Now), verify.WithLogger(l.cfg.Logger)}
	var err error
	if l.idTokens, err = verify.New(l.keys, want, opts...); err != nil {
		l.keys.Close()
		return err
	}
	if l.logouts, err = verify.New(l.keys, want, append(opts, verify.InsecureAllowNoExpiry())...); err != nil {
		l.keys.Close()
		return err
	}
	return nil
}

// Close ends the refresh grants in flight (waiting for their goroutines)
// and stops the key source; requests after Close that need keys or a
// refresh fail. For a restart, prefer [Login.Shutdown].
func (l *Login) Close() error {
	l.refresher.close()
	l.stop()
	l.running.Wait()
	return l.keys.Close()
}

// Shutdown is Close for a rolling restart: it refuses new refresh grants
// at once (requests then use their sessions as they are), lets the grants
// in flight finish and store their sessions, and ends those still running
// when ctx ends, as Close does. A grant cut short may have been answered
// by the provider already: with rotating refresh tokens the new one is
// lost, and the next redemption of the old one is refused (and, with
// reuse detection, revokes the grant). It returns ctx.Err() when ctx
// ended first, else what Close would.
func (l *Login) Shutdown(ctx context.Context) error {
	l.refresher.close()
	done := make(chan struct{})
	go func() { // ends when the grants do; stop below ends them
		l.running.Wait()
		close(done)
	}()
	var cut error
	select {
	case <-done:
	case <-ctx.Done():
		cut = ctx.Err()
	}
	l.stop()
	<-done
	if err := l.keys.Close(); err != nil {
		return err
	}
	return cut
}

// Wrap returns a handler that serves the middleware's own paths, requires a
// session on the protected paths, and passes every other request to app
// (with the Identity in its context when the browser is signed in). With
// [Config].Disabled it returns app itself, or with [Config].IdentityHeaders
// app behind a handler that only removes the inbound identity headers (an
// app that trusts them must not get a visitor's own copy).
func (l *Login) Wrap(app http.Handler) http.Handler {
	if l.cfg.Disabled {
		if !l.cfg.IdentityHeaders {
			return app
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("X-Forwarded-User")
			r.Header.Del("X-Forwarded-Email")
			app.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.serve(w, r, app)
	})
}

func (l *Login) serve(w http.ResponseWriter, r *http.Request, app http.Handler) {
	p := matchPath(r.URL.Path)
	switch strings.TrimSuffix(p, "/") {
	case l.cfg.CallbackPath:
		l.callback(w, r)
		return
	case l.cfg.SignOutPath:
		l.signOut(w, r)
		return
	case l.cfg.BackChannelLogoutPath:
		l.backChannelLogout(w, r)
		return
	}
	cookies := r.Cookies()
	id, err := l.identify(w, r, cookies)
	if id == nil && (protected(l.rules, r.URL.Path) || r.URL.RawPath != "" && protected(l.rules, r.URL.RawPath)) {
		if err != nil { // the session store is down: neither a login nor a sign-out
			w.Header().Set("Retry-After", "5")
			l.fail(w, r, http.StatusServiceUnavailable, "Sessions are unavailable; try again shortly.", err)
			return
		}
		l.challenge(w, r)
		return
	}
	l.jar.stripCookies(r, cookies)
	if l.cfg.IdentityHeaders {
		r.Header.Del("X-Forwarded-User")
		r.Header.Del("X-Forwarded-Email")
		if id != nil {
			r.Header.Set("X-Forwarded-User", id.Subject)
			r.Header.Set("X-Forwarded-Email", id.Email)
		}
	}
	if id != nil {
		r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
	}
	app.ServeHTTP(w, r)
}

// challenge answers a protected request without a session: a browser GET
// is sent to login, anything else gets 401.
func (l *Login) challenge(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		l.startLogin(w, r, r.URL.RequestURI())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"error":"unauthenticated","error_description":"sign in first"}` + "\n"))
}

// wantsHTML: a request that asks for JSON, or is made by a script, is not a
// page load.
func wantsHTML(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	accept := r.Header.Get("Accept")
	return !strings.Contains(accept, "application/json") || strings.Contains(accept, "text/html")
}

// originOf is the origin of an absolute URL as a browser's Origin header
// writes it: lower case, without the scheme's default port ("" when u has
// no host).
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	host := strings.ToLower(p.Host)
	scheme := strings.ToLower(p.Scheme)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}
