package verify

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Middleware under concurrent random requests: each request's expected
// answer follows from its shape alone, since the keys and the clock stand
// still (the key URL is down, so an unknown kid is a 503).
func TestRandomMiddleware(t *testing.T) {
	for _, seed := range rsSeeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomMiddleware(t, seed) })
	}
}

type mwCase struct {
	name   string
	req    *http.Request
	status int
	auth   string // expected WWW-Authenticate, "" for none checked
	sub    string // expected subject seen by the handler
}

func randomMiddleware(t *testing.T, seed uint64) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rsFixtures()
	c := newClock()
	srv := newJWKSServer(t, jwkOf("k0", rsPriv[0]))
	tr := &http.Transport{}
	ks := JWKS(srv.URL, WithClock(c.Now), WithHTTPClient(&http.Client{Transport: tr}))
	v := newTestVerifier(t, ks, c, WithCacheSize(32))
	good := func(sub, scope string) string {
		return token(rsPriv[0], "ES256", "k0", with(goodClaims(), "sub", sub, "scope", scope))
	}
	if _, err := v.Verify(context.Background(), good("warm", "read")); err != nil {
		t.Fatal(err)
	}
	// The key URL goes down; one failed fetch makes unknown kids temporary.
	srv.setDown(true)
	c.Add(DefaultMinRefreshInterval)
	_, _ = v.Verify(context.Background(), token(rsPriv[0], "ES256", "gone", goodClaims()))
	waitIdle(t, ks)

	var mu sync.Mutex
	seen := map[string]string{} // request id → subject the handler saw
	h := Middleware(v, RequireScope("read"), WithRealm("api"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := ClaimsFrom(r.Context())
		mu.Lock()
		seen[r.Header.Get("X-Id")] = cl.Subject
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	rng := mrand.New(mrand.NewPCG(seed, 7))
	const n = 400
	cases := make([]mwCase, n)
	for i := range cases {
		id := fmt.Sprint(i)
		sub := "s" + id
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("X-Id", id)
		cs := mwCase{req: req, status: http.StatusUnauthorized, auth: `Bearer realm="api", error="invalid_token"`}
		tok := good(sub, "read write")
		if rng.IntN(3) == 0 {
			tok = good("shared", "read") // repeated: cache hits
			sub = "shared"
		}
		switch k := rng.IntN(10); k {
		case 0, 1, 2:
			cs.name, cs.status, cs.auth, cs.sub = "valid", http.StatusNoContent, "", sub
			scheme := []string{"Bearer ", "bearer ", "BEARER  "}[rng.IntN(3)]
			req.Header.Set("Authorization", scheme+tok)
			if rng.IntN(2) == 0 { // an ended context: the keys are held, no wait
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				cs.req = req.WithContext(ctx)
			}
		case 3:
			cs.name, cs.status, cs.auth = "noscope", http.StatusForbidden, `Bearer realm="api", error="insufficient_scope", scope="read"`
			req.Header.Set("Authorization", "Bearer "+good(sub, "write"))
		case 4:
			cs.name = "expired"
			req.Header.Set("Authorization", "Bearer "+token(rsPriv[0], "ES256", "k0", with(goodClaims(), "exp", testEpoch.Add(-time.Hour).Unix())))
		case 5:
			cs.name = "forged"
			req.Header.Set("Authorization", "Bearer "+token(rsForger, "ES256", "k0", goodClaims()))
		case 6:
			cs.name, cs.auth = "none", `Bearer realm="api"`
			if rng.IntN(2) == 0 {
				req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			}
		case 7:
			cs.name, cs.status, cs.auth = "two", http.StatusBadRequest, `Bearer realm="api", error="invalid_request"`
			req.Header.Add("Authorization", "Bearer "+tok)
			req.Header.Add("Authorization", "Bearer "+tok)
		case 8:
			cs.name, cs.status, cs.auth = "unknownkid", http.StatusServiceUnavailable, ""
			req.Header.Set("Authorization", "Bearer "+token(rsPriv[1], "ES256", fmt.Sprintf("rnd-%d", rng.Uint64()), goodClaims()))
		default:
			cs.name = "garbage"
			junk := []string{"a.b.c", "....", strings.Repeat("x", MaxTokenSize+1), tok[:len(tok)-3], tok + "."}
			req.Header.Set("Authorization", "Bearer "+junk[rng.IntN(len(junk))])
		}
		cases[i] = cs
	}
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range cases {
		recs[i] = httptest.NewRecorder()
		wg.Go(func() { h.ServeHTTP(recs[i], cases[i].req) })
	}
	wg.Wait()
	for i, cs := range cases {
		rec := recs[i]
		if rec.Code != cs.status {
			t.Errorf("seed %d: request %d (%s): status %d; want %d", seed, i, cs.name, rec.Code, cs.status)
			continue
		}
		if got := rec.Header().Get("WWW-Authenticate"); cs.auth != "" && got != cs.auth {
			t.Errorf("seed %d: request %d (%s): WWW-Authenticate %q; want %q", seed, i, cs.name, got, cs.auth)
		}
		if cs.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Errorf("seed %d: request %d (%s): 503 without Retry-After", seed, i, cs.name)
		}
		if cs.sub != "" && seen[fmt.Sprint(i)] != cs.sub {
			t.Errorf("seed %d: request %d: the handler saw subject %q; want %q", seed, i, seen[fmt.Sprint(i)], cs.sub)
		}
		if cs.sub == "" && seen[fmt.Sprint(i)] != "" {
			t.Errorf("seed %d: request %d (%s) reached the handler", seed, i, cs.name)
		}
	}
	if t.Failed() {
		t.Logf("replay with VERIFY_RANDOM_SEED=%d", seed)
	}
	ks.Close()
	srv.Close()
	tr.CloseIdleConnections()
}
