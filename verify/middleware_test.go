package verify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	good := token(priv, "RS256", "", goodClaims())
	expired := token(priv, "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()-3600))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		if c == nil {
			t.Error("handler called without claims")
			return
		}
		io.WriteString(w, "hello "+c.Subject)
	})
	strict := Middleware(v, WithRealm("api"))(handler)
	query := Middleware(v, InsecureTokenFromQuery())(handler)
	admin := Middleware(v, RequireScope("read", "admin"))(handler)
	reader := Middleware(v, RequireScope("read"))(handler)

	form := func(tok string) *http.Request {
		r := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{"access_token": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	get := func(target string, headers ...string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		for _, h := range headers {
			r.Header.Add("Authorization", h)
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		h         http.Handler
		req       *http.Request
		status    int
		challenge string
	}{
		{"good token", strict, get("/", "Bearer "+good), 200, ""},
		{"scheme case-insensitive", strict, get("/", "bearer "+good), 200, ""},
		{"no token", strict, get("/"), 401, `Bearer realm="api"`},
		{"basic auth", strict, get("/", "Basic dTpw"), 401, `Bearer realm="api"`},
		{"expired token", strict, get("/", "Bearer "+expired), 401, `Bearer realm="api", error="invalid_token"`},
		{"garbage token", strict, get("/", "Bearer x.y.z"), 401, `Bearer realm="api", error="invalid_token"`},
		{"empty bearer", strict, get("/", "Bearer "), 400, `Bearer realm="api", error="invalid_request"`},
		{"two Authorization headers", strict, get("/", "Bearer "+good, "Bearer "+good), 400, `Bearer realm="api", error="invalid_request"`},
		{"query token without the option", strict, get("/?access_token=" + good), 401, `Bearer realm="api"`},
		{"form token without the option", strict, form(good), 401, `Bearer realm="api"`},
		{"query token with the option", query, get("/?access_token=" + good), 200, ""},
		{"form token with the option", query, form(good), 200, ""},
		{"header and query", query, get("/?access_token="+good, "Bearer "+good), 400, `Bearer error="invalid_request"`},
		{"two query tokens", query, get("/?access_token=" + good + "&access_token=" + good), 400, `Bearer error="invalid_request"`},
		{"missing scope", admin, get("/", "Bearer "+good), 403, `Bearer error="insufficient_scope", scope="read admin"`},
		{"held scope", reader, get("/", "Bearer "+good), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d; want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tc.challenge)
			}
			body := rec.Body.String()
			if tc.status == 200 && body != "hello user-1" {
				t.Errorf("body %q", body)
			}
			if tc.status != 200 && (strings.Contains(body, "exp") || strings.Contains(body, "signature") || strings.Contains(body, good[:10])) {
				t.Errorf("body %q helps an attacker", body)
			}
		})
	}
}

func TestMiddlewareKeysDown(t *testing.T) {
	f := newRemoteFixture(t)
	h := Middleware(f.v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	serve := func(kid string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+token(rsaKey(0), "RS256", kid, goodClaims()))
		h.ServeHTTP(rec, r)
		return rec
	}
	f.srv.setDown(true)
	if rec := serve("k1"); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("no keys: status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	f.srv.setDown(false)
	f.clock.Add(time.Minute)
	if rec := serve("k1"); rec.Code != http.StatusOK {
		t.Fatalf("keys back: status %d", rec.Code)
	}
	f.srv.setDown(true)
	f.clock.Add(time.Minute)
	if rec := serve("k2"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("unknown kid while the key URL fails: status %d; want 503", rec.Code)
	}
	f.srv.setDown(false)
	if rec := serve("k2"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("unknown kid within the backoff (the last fetch failed): status %d; want 503", rec.Code)
	}
	f.clock.Add(DefaultMinRefreshInterval)
	if rec := serve("k2"); rec.Code != http.StatusUnauthorized {
		t.Errorf("unknown kid, keys fetched: status %d; want 401", rec.Code)
	}
}

func TestMiddlewareOptionPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"nil verifier":     func() { Middleware(nil) },
		"empty scope":      func() { RequireScope("") },
		"scope with quote": func() { RequireScope(`a"b`) },
		"realm with quote": func() { WithRealm(`a"`) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// WithClaims puts claims where ClaimsFrom finds them.
func TestWithClaimsRoundTrip(t *testing.T) {
	c := &Claims{Subject: "s"}
	if got := ClaimsFrom(WithClaims(context.Background(), c)); got != c {
		t.Fatalf("ClaimsFrom(WithClaims(c)) = %p; want %p", got, c)
	}
	if got := ClaimsFrom(context.Background()); got != nil {
		t.Fatalf("ClaimsFrom(empty) = %p; want nil", got)
	}
}
