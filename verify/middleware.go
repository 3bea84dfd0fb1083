package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// MiddlewareOption configures [Middleware].
type MiddlewareOption func(*middleware)

type middleware struct {
	v           *Verifier
	scopes      []string
	realm       string
	fromQuery   bool
	requireDPoP bool
	external    func(*http.Request) *url.URL // nil: no DPoP unless trustHost
	trustHost   bool                         // InsecureTrustHostHeader: htu from r.Host
	warnOnce    sync.Once                    // the log line about a missing origin
	next        http.Handler
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

// RequireDPoP makes [Middleware] accept only DPoP presentations
// (Authorization: DPoP with a DPoP proof): a bearer token is treated as no
// token (401 with a DPoP challenge only). Without it both schemes are
// accepted, and a token bound to a key (cnf.jkt) is refused as a bearer
// token either way.
func RequireDPoP() MiddlewareOption {
	return func(m *middleware) { m.requireDPoP = true }
}

// WithExternalOrigin sets the scheme and host clients use to reach the
// service ("https://api.example.com"), against which a DPoP proof's htu is
// checked; the path is the request's. [Middleware] accepts DPoP
// presentations only when it knows its origin, from this option,
// [WithExternalURL] or [InsecureTrustHostHeader]: the Host header is the
// client's to choose, and a proof made for another service (captured there
// with its token, when both accept the token's audience) would pass with
// Host set to that service. An origin that is not an http or https URL
// with a host and nothing after it (a path other than "/", a query, a
// fragment, user info) panics.
func WithExternalOrigin(origin string) MiddlewareOption {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		panic("verify.WithExternalOrigin: origin is not an http(s) scheme and host alone")
	}
	return WithExternalURL(func(r *http.Request) *url.URL {
		return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
	})
}

// WithExternalURL sets how [Middleware] learns the URL a client sent a
// request to, for a DPoP proof's htu (its query is ignored): for a proxy
// that also rewrites the path, or a service with several origins. f must
// be safe for concurrent use, and must not take the host from the request
// unchecked (see [WithExternalOrigin]); a nil URL refuses the proof. A nil
// f panics.
func WithExternalURL(f func(r *http.Request) *url.URL) MiddlewareOption {
	if f == nil {
		panic("verify.WithExternalURL: nil func")
	}
	return func(m *middleware) { m.external = f }
}

// InsecureTrustHostHeader makes [Middleware] check a DPoP proof's htu
// against the request's own URL: https when it came over TLS (r.TLS), else
// http, the Host header and the path. The Host header is the client's to
// choose, so a proof captured at another service that accepts the same
// tokens passes here; for tests and for services whose tokens no other
// service accepts. Prefer [WithExternalOrigin].
func InsecureTrustHostHeader() MiddlewareOption {
	return func(m *middleware) { m.trustHost = true }
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
// a token v accepts, and puts the claims in its context ([ClaimsFrom]). It
// takes the token from an Authorization: Bearer header (RFC 6750 §2.1), or
// from Authorization: DPoP with exactly one DPoP proof header (RFC 9449 §7;
// checked by [Verifier.VerifyDPoP] against the request's method and
// external URL, which [WithExternalOrigin] gives; without it DPoP
// presentations are refused and a warning logged once). Both schemes are
// accepted ([RequireDPoP] accepts DPoP only); a token bound to a key
// (cnf.jkt) is never accepted as a bearer token, and a token bound to no
// key never with DPoP. A bearer token bound to a client certificate (cnf
// x5t#S256, RFC 8705) is accepted only when the request came over TLS with
// that certificate (r.TLS; a proxy that terminates mutual TLS must check
// it itself); one bound by another confirmation method, never.
//
// It answers: 401 with a challenge for each accepted scheme
// ("WWW-Authenticate: Bearer" and "WWW-Authenticate: DPoP algs=..."), the
// presented one first, when there is no token; 401 with error="invalid_token"
// for a refused token and error="invalid_dpop_proof" for a refused proof
// (never saying why; call [Verifier.Verify] or [Verifier.VerifyDPoP]
// directly to see the reason); 401 with error="use_dpop_nonce" when
// [WithDPoPNonces] is on and the proof lacks a current nonce; 400
// invalid_request for a malformed request (two Authorization headers, a
// token in two places); 403 insufficient_scope ([RequireScope]); 503 with
// Retry-After when the keys cannot be fetched (also for a token naming an
// unknown key while the key URL fails: it may be a rotated key) or the
// DPoP replay cache is full or the shared replay store
// ([WithDPoPReplayStore]) fails. With [WithDPoPNonces], every response carries
// the current nonce in a DPoP-Nonce header. The request's context is
// passed to the Verifier. A nil v or a nil option panics. The handler is
// safe for concurrent use.
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
	if m.v.nonces != nil {
		w.Header().Set(dpop.NonceHeader, m.v.DPoPNonce())
	}
	raw, isDPoP, ok := m.credentials(r)
	switch {
	case !ok:
		m.challenge(w, http.StatusBadRequest, "", `error="invalid_request"`)
		return
	case raw == "":
		m.challenge(w, http.StatusUnauthorized, "", "")
		return
	}
	var c *Claims
	var err error
	if isDPoP {
		c, err = m.verifyDPoP(r, raw)
	} else {
		c, err = m.v.verifyBearer(r.Context(), raw, clientCertificate(r))
	}
	if err != nil {
		m.refuse(w, err, isDPoP)
		return
	}
	if !c.HasScope(m.scopes...) {
		m.challenge(w, http.StatusForbidden, schemeOf(isDPoP), `error="insufficient_scope", scope="`+strings.Join(m.scopes, " ")+`"`)
		return
	}
	m.next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
}

// refuse answers a token or proof that was refused, or keys (or the replay
// cache) that are unavailable.
func (m *middleware) refuse(w http.ResponseWriter, err error, isDPoP bool) {
	var bad *authorizer.InvalidTokenError
	if errors.As(err, &bad) && !bad.Temporary() {
		switch {
		case bad.Reason == authorizer.TokenDPoPNonce:
			m.challenge(w, http.StatusUnauthorized, dpop.TokenType, `error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		case bad.Reason == authorizer.TokenDPoPProof || bad.Reason == authorizer.TokenDPoPReplay:
			m.challenge(w, http.StatusUnauthorized, dpop.TokenType, `error="invalid_dpop_proof"`)
		default:
			m.challenge(w, http.StatusUnauthorized, schemeOf(isDPoP), `error="invalid_token"`)
		}
		return
	}
	retry := "10"
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		retry = strconv.Itoa(int(ae.RetryAfter.Round(time.Second) / time.Second))
	}
	w.Header().Set("Retry-After", retry)
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
}

func schemeOf(isDPoP bool) string {
	if isDPoP {
		return dpop.TokenType
	}
	return "Bearer"
}

// verifyDPoP checks a DPoP presentation: exactly one DPoP header, and the
// proof for the request's external URL.
func (m *middleware) verifyDPoP(r *http.Request, raw string) (*Claims, error) {
	proofs := r.Header.Values(dpop.Header)
	if len(proofs) != 1 {
		return nil, proofError("the request has no DPoP header, or more than one")
	}
	if m.external == nil && !m.trustHost {
		m.warnOnce.Do(func() {
			m.v.cfg.logger.Warn("verify: Middleware refuses DPoP proofs: it does not know its origin (give WithExternalOrigin)")
		})
		return nil, proofError("the Middleware does not know its external origin (WithExternalOrigin)")
	}
	target := m.requestURL(r)
	if target == nil {
		return nil, proofError("the request's external URL is unknown")
	}
	return m.v.VerifyDPoP(r.Context(), raw, proofs[0], r.Method, target)
}

// clientCertificate is the leaf certificate the client presented over TLS
// (RFC 8705), or nil.
func clientCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// requestURL is the URL the client sent r to, as a proof's htu names it.
func (m *middleware) requestURL(r *http.Request) *url.URL {
	if m.external != nil {
		return m.external(r)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
}

// credentials returns the token ("" when there is none), whether it came
// with the DPoP scheme, and false when the request is malformed.
func (m *middleware) credentials(r *http.Request) (raw string, isDPoP, ok bool) {
	found := 0
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", false, false
		}
		scheme, tok, ok := strings.Cut(h[0], " ")
		switch {
		case ok && strings.EqualFold(scheme, dpop.TokenType):
			isDPoP = true
		case !ok || !strings.EqualFold(scheme, "Bearer") || m.requireDPoP:
			return "", false, true // another scheme: no token
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
	return raw, isDPoP && found == 1, found <= 1 && (found == 0 || raw != "")
}

// challenge answers status with a challenge for each accepted scheme
// (Bearer unless [RequireDPoP], and DPoP); params go to the challenge of
// scheme, which comes first, or to every challenge when scheme is "".
func (m *middleware) challenge(w http.ResponseWriter, status int, scheme, params string) {
	bearer, dp := "", m.dpopChallenge(scheme == "" || scheme == dpop.TokenType, params)
	if !m.requireDPoP {
		bearer = m.schemeChallenge("Bearer", scheme == "" || scheme == "Bearer", params)
	}
	h := w.Header()
	switch {
	case bearer == "":
		h.Set("WWW-Authenticate", dp)
	case scheme == dpop.TokenType:
		h.Set("WWW-Authenticate", dp)
		h.Add("WWW-Authenticate", bearer)
	default:
		h.Set("WWW-Authenticate", bearer)
		h.Add("WWW-Authenticate", dp)
	}
	http.Error(w, http.StatusText(status), status)
}

// dpopChallenge is the DPoP challenge, with params when withParams, and the
// accepted algorithms (RFC 9449 §7.1).
func (m *middleware) dpopChallenge(withParams bool, params string) string {
	algs := `algs="` + strings.Join(m.v.cfg.dpopAlgs, " ") + `"`
	if withParams && params != "" {
		params += ", " + algs
	} else {
		params = algs
	}
	return m.schemeChallenge(dpop.TokenType, true, params)
}

// schemeChallenge is "scheme realm=..., params" (params when withParams).
func (m *middleware) schemeChallenge(scheme string, withParams bool, params string) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	if m.realm != "" {
		b.WriteString(` realm="` + m.realm + `"`)
		sep = ", "
	}
	if withParams && params != "" {
		b.WriteString(sep + params)
	}
	return b.String()
}
