package verify

import (
	"crypto/tls"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
)

const dpopAlgsParam = `algs="ES256 EdDSA"`

func dpopHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		if c == nil {
			t.Error("handler called without claims")
			return
		}
		io.WriteString(w, "hello "+c.Subject+" "+c.KeyThumbprint)
	})
}

// dpopRequest is a request to target with Authorization "scheme tok" and
// the given DPoP headers.
func dpopRequest(method, target, scheme, tok string, proofs ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if scheme != "" {
		r.Header.Set("Authorization", scheme+" "+tok)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

func TestMiddlewareDPoP(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c)
	now := c.Now()
	tok := boundToken(dpKey.Thumbprint())
	unbound := token(rsaKey(0), "RS256", "", goodClaims())
	target := "http://api.example/v1/things"
	proof := func(method, u string) string { return mustProof(t, dpKey, method, mustURL(u), tok, "", now) }
	strict := Middleware(v, InsecureTrustHostHeader(), WithRealm("api"))(dpopHandler(t))
	only := Middleware(v, InsecureTrustHostHeader(), RequireDPoP())(dpopHandler(t))
	scoped := Middleware(v, InsecureTrustHostHeader(), RequireScope("admin"))(dpopHandler(t))
	behind := Middleware(v, WithExternalOrigin("https://api.example"))(dpopHandler(t))
	nilURL := Middleware(v, WithExternalURL(func(*http.Request) *url.URL { return nil }))(dpopHandler(t))
	query := Middleware(v, InsecureTrustHostHeader(), InsecureTokenFromQuery())(dpopHandler(t))
	replayed := proof("GET", target)
	strict.ServeHTTP(httptest.NewRecorder(), dpopRequest("GET", target, "DPoP", tok, replayed))
	tlsReq := dpopRequest("GET", "https://api.example/v1/things", "DPoP", tok, proof("GET", "https://api.example/v1/things"))
	tlsReq.TLS = &tls.ConnectionState{}
	noTLS := dpopRequest("GET", "https://api.example/v1/things", "DPoP", tok, proof("GET", "https://api.example/v1/things"))
	noTLS.TLS = nil

	for _, tc := range []struct {
		name       string
		h          http.Handler
		req        *http.Request
		status     int
		challenges []string
	}{
		{"good DPoP", strict, dpopRequest("GET", target, "DPoP", tok, proof("GET", target)), 200, nil},
		{"scheme case-insensitive", strict, dpopRequest("GET", target, "dpop", tok, proof("GET", target)), 200, nil},
		{"query ignored", strict, dpopRequest("GET", target+"?page=2", "DPoP", tok, proof("GET", target)), 200, nil},
		{"https from r.TLS", strict, tlsReq, 200, nil},
		{"http without r.TLS", strict, noTLS, 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"no token", strict, dpopRequest("GET", target, "", ""), 401, []string{`Bearer realm="api"`, `DPoP realm="api", ` + dpopAlgsParam}},
		{"no DPoP header", strict, dpopRequest("GET", target, "DPoP", tok), 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"two DPoP headers", strict, dpopRequest("GET", target, "DPoP", tok, proof("GET", target), proof("GET", target)), 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"wrong method", strict, dpopRequest("POST", target, "DPoP", tok, proof("GET", target)), 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"another host", strict, dpopRequest("GET", "http://other.example/v1/things", "DPoP", tok, proof("GET", target)), 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"replayed proof", strict, dpopRequest("GET", target, "DPoP", tok, replayed), 401, []string{`DPoP realm="api", error="invalid_dpop_proof", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"bound token as Bearer", strict, dpopRequest("GET", target, "Bearer", tok), 401, []string{`Bearer realm="api", error="invalid_token"`, `DPoP realm="api", ` + dpopAlgsParam}},
		{"bound token as Bearer, default middleware", Middleware(v, InsecureTrustHostHeader())(dpopHandler(t)), dpopRequest("GET", target, "Bearer", tok, proof("GET", target)), 401, []string{`Bearer error="invalid_token"`, "DPoP " + dpopAlgsParam}},
		{"unbound token as DPoP", strict, dpopRequest("GET", target, "DPoP", unbound, mustProof(t, dpKey, "GET", mustURL(target), unbound, "", now)), 401, []string{`DPoP realm="api", error="invalid_token", ` + dpopAlgsParam, `Bearer realm="api"`}},
		{"unbound token as Bearer", strict, dpopRequest("GET", target, "Bearer", unbound), 200, nil},
		{"empty DPoP token", strict, dpopRequest("GET", target, "DPoP", "", proof("GET", target)), 400, []string{`Bearer realm="api", error="invalid_request"`, `DPoP realm="api", error="invalid_request", ` + dpopAlgsParam}},
		{"RequireDPoP: Bearer is no token", only, dpopRequest("GET", target, "Bearer", unbound), 401, []string{"DPoP " + dpopAlgsParam}},
		{"RequireDPoP: DPoP passes", only, dpopRequest("GET", target, "DPoP", tok, proof("GET", target)), 200, nil},
		{"RequireDPoP: bad proof", only, dpopRequest("GET", target, "DPoP", tok, proof("PUT", target)), 401, []string{`DPoP error="invalid_dpop_proof", ` + dpopAlgsParam}},
		{"missing scope", scoped, dpopRequest("GET", target, "DPoP", tok, proof("GET", target)), 403, []string{`DPoP error="insufficient_scope", scope="admin", ` + dpopAlgsParam, "Bearer"}},
		{"external origin", behind, dpopRequest("GET", "http://10.0.0.7:8080/v1/things", "DPoP", tok, proof("GET", "https://api.example/v1/things")), 200, nil},
		{"external origin: internal URL refused", behind, dpopRequest("GET", "http://10.0.0.7:8080/v1/things", "DPoP", tok, proof("GET", "http://10.0.0.7:8080/v1/things")), 401, []string{`DPoP error="invalid_dpop_proof", ` + dpopAlgsParam, "Bearer"}},
		{"DPoP header and a query token", query, dpopRequest("GET", target+"?access_token="+unbound, "DPoP", tok, proof("GET", target)), 400, []string{`Bearer error="invalid_request"`, `DPoP error="invalid_request", ` + dpopAlgsParam}},
		{"DPoP proof with a query token", query, dpopRequest("GET", target+"?access_token="+tok, "", "", proof("GET", target)), 401, []string{`Bearer error="invalid_token"`, "DPoP " + dpopAlgsParam}},
		{"external URL unknown", nilURL, dpopRequest("GET", target, "DPoP", tok, proof("GET", target)), 401, []string{`DPoP error="invalid_dpop_proof", ` + dpopAlgsParam, "Bearer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d; want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, tc.challenges) {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tc.challenges)
			}
			if tc.status == 200 && rec.Body.String() != "hello user-1 "+dpKey.Thumbprint() && rec.Body.String() != "hello user-1 " {
				t.Errorf("body %q", rec.Body)
			}
			if rec.Header().Get(dpop.NonceHeader) != "" {
				t.Error("a DPoP-Nonce without WithDPoPNonces")
			}
		})
	}
}

func TestMiddlewareDPoPReplayCacheFull(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPReplayCacheSize(1))
	tok := boundToken(dpKey.Thumbprint())
	h := Middleware(v, InsecureTrustHostHeader())(dpopHandler(t))
	target := "http://api.example/x"
	for i, want := range []int{200, 503} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, dpopRequest("GET", target, "DPoP", tok, mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())))
		if rec.Code != want {
			t.Fatalf("request %d: status %d; want %d", i, rec.Code, want)
		}
		if want == 503 && rec.Header().Get("Retry-After") != fmt.Sprint(int((DefaultDPoPProofAge+time.Second)/time.Second)) {
			t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
		}
	}
}

func TestMiddlewareDPoPNonceFlow(t *testing.T) {
	c := newClock()
	v := newDPoPVerifier(t, c, WithDPoPNonces([]byte(strings.Repeat("n", 32)), time.Minute))
	tok := boundToken(dpKey.Thumbprint())
	h := Middleware(v, InsecureTrustHostHeader(), WithRealm("api"))(dpopHandler(t))
	target := mustURL("http://api.example/x")
	serve := func(nonce string) *http.Response {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, dpopRequest("GET", target.String(), "DPoP", tok, mustProof(t, dpKey, "GET", target, tok, nonce, c.Now())))
		return rec.Result()
	}
	resp := serve("")
	nonce, ok := dpop.ResourceNonceChallenge(resp)
	if !ok {
		t.Fatalf("no use_dpop_nonce challenge: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
	want := `DPoP realm="api", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", ` + dpopAlgsParam
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 2 || got[0] != want {
		t.Errorf("WWW-Authenticate = %q; want %q first", got, want)
	}
	resp = serve(nonce)
	if resp.StatusCode != 200 || resp.Header.Get(dpop.NonceHeader) != nonce {
		t.Fatalf("with the nonce: %d, DPoP-Nonce %q", resp.StatusCode, resp.Header.Get(dpop.NonceHeader))
	}
	// Every response carries the current nonce: a Bearer one, a 401.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, dpopRequest("GET", target.String(), "", ""))
	if rec.Code != 401 || rec.Header().Get(dpop.NonceHeader) != nonce {
		t.Errorf("401 without token: DPoP-Nonce %q", rec.Header().Get(dpop.NonceHeader))
	}
	c.Add(2 * time.Minute)
	resp = serve(nonce)
	fresh, ok := dpop.ResourceNonceChallenge(resp)
	if !ok || fresh == nonce {
		t.Fatalf("a stale nonce: %d, new nonce %q", resp.StatusCode, fresh)
	}
	if resp = serve(fresh); resp.StatusCode != 200 {
		t.Fatalf("the fresh nonce: %d", resp.StatusCode)
	}
}

func TestMiddlewareDPoPOptionsPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"origin with a path", func() { WithExternalOrigin("https://api.example/base") }},
		{"origin with a query", func() { WithExternalOrigin("https://api.example?a=b") }},
		{"origin without a host", func() { WithExternalOrigin("https://") }},
		{"origin of another scheme", func() { WithExternalOrigin("ftp://api.example") }},
		{"origin with user info", func() { WithExternalOrigin("https://u:p@api.example") }},
		{"nil external URL func", func() { WithExternalURL(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
	WithExternalOrigin("https://api.example/") // a trailing slash is fine
}

// TestDPoPConcurrentReplay: many goroutines present the same proofs at
// once; each proof is accepted exactly once. The seed picks how many
// proofs and goroutines, and the order they start in.
func TestDPoPConcurrentReplay(t *testing.T) {
	for _, seed := range rsSeeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { dpopConcurrentReplay(t, seed) })
	}
}

func dpopConcurrentReplay(t *testing.T, seed uint64) {
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	h := Middleware(v, InsecureTrustHostHeader())(dpopHandler(t))
	target := "http://api.example/x"
	proofs := make([]string, 1+rng.IntN(4))
	for i := range proofs {
		proofs[i] = mustProof(t, dpKey, "GET", mustURL(target), tok, "", c.Now())
	}
	var jobs []int
	for i := range proofs {
		for range 2 + rng.IntN(30) {
			jobs = append(jobs, i)
		}
	}
	rng.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	accepted := make([]atomic.Int64, len(proofs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, i := range jobs {
		wg.Go(func() {
			<-start
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, dpopRequest("GET", target, "DPoP", tok, proofs[i]))
			switch rec.Code {
			case 200:
				accepted[i].Add(1)
			case 401:
			default:
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range accepted {
		if n := accepted[i].Load(); n != 1 {
			t.Errorf("seed %d: proof %d accepted %d times; want exactly 1 (replay with VERIFY_RANDOM_SEED=%d)", seed, i, n, seed)
		}
	}
}
