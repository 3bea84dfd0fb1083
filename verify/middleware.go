package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// MiddlewareOption configures [Middleware].
type MiddlewareOption func(*middleware)

type middleware struct {
	v         *Verifier
	scopes    []string
	realm     string
	fromQuery bool
	next      http.Handler
}

// RequireScope makes [Middleware] answer 403 insufficient_scope (RFC 6750
// §3.1) to a valid token that lacks any of scopes. Scopes are the token's
// scope or scp claim ([Claims].Scopes). An empty scope string panics.
func RequireScope(scopes ...string) MiddlewareOption {
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			panic("verify.RequireScope: scope is empty or holds a space, quote or backslash")
		}
	}
	return func(m *middleware) { m.scopes = append(m.scopes, scopes...) }
}

// WithRealm sets the realm of the WWW-Authenticate challenge. Optional;
// none by default. A realm with a quote or backslash panics.
func WithRealm(realm string) MiddlewareOption {
	if strings.ContainsAny(realm, "\"\\") {
		panic("verify.WithRealm: realm holds a quote or backslash")
	}
	return func(m *middleware) { m.realm = realm }
}

// InsecureTokenFromQuery also accepts the token as the access_token query
// parameter or form field (RFC 6750 §2.2, §2.3), which end up in logs,
// browser history and Referer headers. A request carrying the token in
// more than one place is refused.
func InsecureTokenFromQuery() MiddlewareOption {
	return func(m *middleware) { m.fromQuery = true }
}

type claimsKey struct{}

// ClaimsFrom returns the claims [Middleware] put in a request's context,
// or nil. Do not modify them.
func ClaimsFrom(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// WithClaims returns a copy of ctx carrying c, which [ClaimsFrom] returns:
// for handlers other than [Middleware] that verify a token themselves
// (package grpcauth's interceptors), so that one accessor serves both.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Middleware returns HTTP middleware that lets a request through only with
// a token v accepts, taken from its Authorization: Bearer header (RFC 6750
// §2.1), and puts the claims in its context ([ClaimsFrom]). It answers:
// 401 with "WWW-Authenticate: Bearer" when there is no token; 401 with
// error="invalid_token" for a refused token (never saying why; call
// [Verifier.Verify] directly to see the reason); 400 invalid_request for a malformed
// request (two Authorization headers, a token in two places); 403
// insufficient_scope ([RequireScope]); 503 with Retry-After when the keys
// cannot be fetched (also for a token naming an unknown key while the key
// URL fails: it may be a rotated key). The request's context is passed to [Verifier.Verify]. A nil v
// or a nil option panics. The handler is safe for concurrent use.
func Middleware(v *Verifier, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	if v == nil {
		panic("verify.Middleware: nil Verifier")
	}
	return func(next http.Handler) http.Handler {
		m := &middleware{v: v, next: next}
		for _, o := range opts {
			if o == nil {
				panic("verify.Middleware: nil MiddlewareOption")
			}
			o(m)
		}
		return m
	}
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, ok := m.token(r)
	if !ok {
		m.challenge(w, http.StatusBadRequest, `error="invalid_request"`)
		return
	}
	if raw == "" {
		m.challenge(w, http.StatusUnauthorized, "")
		return
	}
	c, err := m.v.Verify(r.Context(), raw)
	var bad *authorizer.InvalidTokenError
	switch {
	case errors.As(err, &bad) && !bad.Temporary():
		m.challenge(w, http.StatusUnauthorized, `error="invalid_token"`)
		return
	case err != nil:
		w.Header().Set("Retry-After", "10")
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	case !c.HasScope(m.scopes...):
		m.challenge(w, http.StatusForbidden, `error="insufficient_scope", scope="`+strings.Join(m.scopes, " ")+`"`)
		return
	}
	m.next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
}

// token returns the bearer token ("" when there is none), and false when
// the request is malformed.
func (m *middleware) token(r *http.Request) (string, bool) {
	var raw string
	found := 0
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", false
		}
		scheme, tok, ok := strings.Cut(h[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true // another scheme: no bearer token
		}
		raw = strings.TrimLeft(tok, " ")
		found++
	}
	if m.fromQuery {
		if q, ok := r.URL.Query()["access_token"]; ok {
			raw, found = strings.Join(q, ","), found+len(q)
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err == nil {
				if f, ok := r.PostForm["access_token"]; ok {
					raw, found = strings.Join(f, ","), found+len(f)
				}
			}
		}
	}
	return raw, found <= 1 && (found == 0 || raw != "")
}

// challenge answers status with a Bearer challenge carrying params.
func (m *middleware) challenge(w http.ResponseWriter, status int, params string) {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	if m.realm != "" {
		b.WriteString(` realm="` + m.realm + `"`)
		sep = ", "
	}
	if params != "" {
		b.WriteString(sep + params)
	}
	w.Header().Set("WWW-Authenticate", b.String())
	http.Error(w, http.StatusText(status), status)
}
