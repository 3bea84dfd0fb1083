package base

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile resource servers against a Transport sending DPoP tokens.

// A server that answers every request, from the first, with a new nonce
// challenge: every request is sent at most 4 times, and the token
// requests stay bounded (no loop, no storm).
func TestAttackDPoPEndlessNonceFromFirstRequest(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	var n atomic.Int64
	srv := &dpopServer{answer: func(int, *http.Request) *http.Response {
		return nonceChallenge("n-" + strings.Repeat("x", int(n.Add(1)%50)+1))
	}}
	tr := newTestTransport(t, f, clock, srv)
	const requests = 20
	for i := 0; i < requests; i++ {
		before := len(srv.sent())
		req, err := http.NewRequest(http.MethodPost, api, strings.NewReader("p"))
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			resp.Body.Close()
		}
		if sent := len(srv.sent()) - before; sent > 4 {
			t.Fatalf("request %d was sent %d times; the bound is 4", i, sent)
		}
	}
	assert.LessOrEqual(t, f.calls(), requests+1, "token requests")
	t.Logf("%d sends and %d token requests for %d requests", len(srv.sent()), f.calls(), requests)
}

// countingBody is an endless body that counts what was read of it.
type countingBody struct {
	read   atomic.Int64
	closed atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}
func (b *countingBody) Close() error { b.closed.Store(true); return nil }

// A nonce challenge (and a plain 401) with an endless body: at most 64 KiB
// of it is read into memory and it is closed before the replay.
func TestAttackDPoPChallengeHugeBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(body io.ReadCloser) *http.Response
	}{
		{"nonce challenge", func(b io.ReadCloser) *http.Response { r := nonceChallenge("n-1"); r.Body = b; return r }},
		{"plain 401", func(b io.ReadCloser) *http.Response {
			return &http.Response{StatusCode: 401, Header: http.Header{"Www-Authenticate": {`DPoP error="invalid_token"`}}, Body: b}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			bodies := []*countingBody{}
			var mu sync.Mutex
			srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
				b := &countingBody{}
				mu.Lock()
				bodies = append(bodies, b)
				mu.Unlock()
				if n == 2 { // the first request after a warm-up 200
					return tc.first(b)
				}
				return answerWith(http.StatusOK, nil)
			}}
			tr := newTestTransport(t, f, clock, srv)
			send(t, tr, http.MethodGet, api, nil)
			resp := send(t, tr, http.MethodGet, api, nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			mu.Lock()
			defer mu.Unlock()
			require.GreaterOrEqual(t, len(bodies), 2)
			b := bodies[1]
			assert.LessOrEqual(t, b.read.Load(), int64(maxKeptBody+32<<10), "bytes read of the 401 body")
			assert.True(t, b.closed.Load(), "the 401 body is closed")
		})
	}
}

// A challenge whose nonce is no RFC 9449 nonce (quotes, CRLF, control
// bytes, huge, repeated header) is no nonce challenge: nothing of it
// reaches a proof or a header, and it is handled as a plain 401.
func TestAttackDPoPNonceInjectionFromResourceServer(t *testing.T) {
	for _, bad := range [][]string{
		{`a"b`}, {"a\r\nX-Evil: 1"}, {"a\x00b"}, {strings.Repeat("n", 600)}, {`a\b`}, {"n-1", "n-2"}, {""}, {"é"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(bad, "|"), "\x00", "NUL")[:min(20, len(strings.Join(bad, "|")))], func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
				if n == 2 {
					return answerWith(http.StatusUnauthorized, http.Header{
						"Www-Authenticate": {`DPoP error="use_dpop_nonce"`}, "Dpop-Nonce": bad})
				}
				return answerWith(http.StatusOK, http.Header{"Dpop-Nonce": bad})
			}}
			tr := newTestTransport(t, f, clock, srv)
			send(t, tr, http.MethodGet, api, nil)
			send(t, tr, http.MethodGet, api, nil)
			send(t, tr, http.MethodGet, api, nil)
			for i, r := range srv.sent() {
				if c := proofOf(t, r, f.key); c.Nonce != "" {
					t.Errorf("request %d: proof carries nonce %q from an invalid challenge", i, c.Nonce)
				}
				for name, v := range r.Header {
					for _, x := range v {
						if strings.ContainsAny(x, "\r\n\x00") {
							t.Errorf("header %s carries control bytes", name)
						}
					}
				}
			}
		})
	}
}

// The nonce of one origin is never sent to another: a server on origin A
// that redirects to B (allowed with WithAllowedHosts) sent DPoP-Nonce
// nA; the proof to B carries no nonce, and A's proof keeps nA.
func TestAttackDPoPNonceStaysWithItsOrigin(t *testing.T) {
	var mu sync.Mutex
	proofs := map[string][]proofClaims{}
	record := func(name string, r *http.Request) {
		p := r.Header.Get("DPoP")
		if p == "" {
			return
		}
		raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[1])
		var c proofClaims
		_ = json.Unmarshal(raw, &c)
		mu.Lock()
		proofs[name] = append(proofs[name], c)
		mu.Unlock()
	}
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record("b", r) }))
	defer b.Close()
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("a", r)
		w.Header().Set("DPoP-Nonce", "nonce-of-a")
		if r.URL.Path == "/go" {
			http.Redirect(w, r, b.URL+"/there", http.StatusFound)
		}
	}))
	defer a.Close()
	bu, _ := url.Parse(b.URL)
	f := newDPoPFake(t, newClock())
	tr := NewTransport(f, WithBase(http.DefaultTransport), WithAllowedHosts(bu.Host))
	defer tr.Close()
	hc := &http.Client{Transport: tr}
	for _, p := range []string{"/warm", "/go", "/again"} {
		resp, err := hc.Get(a.URL + p)
		require.NoError(t, err)
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, proofs["b"], 1, "b got a proof (allowed host)")
	assert.Empty(t, proofs["b"][0].Nonce, "a's nonce went to b")
	assert.Equal(t, b.URL+"/there", proofs["b"][0].HTU)
	require.Len(t, proofs["a"], 3)
	assert.Equal(t, "nonce-of-a", proofs["a"][2].Nonce)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// A redirect to another host (not allowed) gets neither token nor proof
// even when the redirect itself carries a nonce challenge shape, and the
// token is never sent as Bearer there.
func TestAttackDPoPRedirectToOtherHostNoCredential(t *testing.T) {
	var got atomic.Value
	got.Store("")
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("DPoP"))
	}))
	defer b.Close()
	// Same IP, "localhost" as the host name: another origin.
	bURL := strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", "n-a")
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
		http.Redirect(w, r, bURL+"/x", http.StatusTemporaryRedirect)
	}))
	defer a.Close()
	f := newDPoPFake(t, newClock())
	tr := NewTransport(f, WithBase(http.DefaultTransport))
	defer tr.Close()
	resp, err := (&http.Client{Transport: tr}).Post(a.URL+"/start", "text/plain", strings.NewReader("body"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "|", got.Load(), "credentials to another host")
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// A 401 challenge that is not of scheme DPoP, or names use_dpop_nonce in
// another parameter, is not a nonce challenge.
func TestAttackDPoPChallengeLookalikes(t *testing.T) {
	for _, c := range []string{
		`Bearer error="use_dpop_nonce"`,
		`Bearer realm="dpop", error="use_dpop_nonce"`,
		`DPoP error_description="use_dpop_nonce"`,
		`DPoP realm="error=use_dpop_nonce"`,
		`Basic realm="x"`,
	} {
		resp := &http.Response{StatusCode: 401, Header: http.Header{"Www-Authenticate": {c}, "Dpop-Nonce": {"n-1"}}}
		if _, ok := dpop.ResourceNonceChallenge(resp); ok {
			t.Errorf("%q taken for a nonce challenge", c)
		}
	}
	for _, status := range []int{400, 403, 200, 302} {
		resp := nonceChallenge("n-1")
		resp.StatusCode = status
		if _, ok := dpop.ResourceNonceChallenge(resp); ok {
			t.Errorf("status %d taken for a resource nonce challenge", status)
		}
	}
}

// A careless caller's hand-built URL with a scheme that lowers to fewer
// bytes (U+212A KELVIN SIGN), to a loopback host: RoundTrip must fail
// cleanly, not panic in the caller's goroutine.
func TestAttackDPoPUnicodeSchemeLoopback(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	tr := newTestTransport(t, f, clock, srv)
	req, err := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	require.NoError(t, err)
	req.URL.Scheme = strings.Repeat("\u212a", 8)
	var perr any
	func() {
		defer func() { perr = recover() }()
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	if perr != nil {
		t.Fatal("regression of a fixed finding (low): base.Transport.RoundTrip panics (base/dpop.go:62 dpop.Origin(req.URL), slice bounds out of range) " +
			"for a DPoP token and a hand-built req.URL whose scheme is eight U+212A to http://localhost/: base/policy.go:26 passes any " +
			"scheme for loopback hosts and InsecureAllowHTTP. Fix: dpop.Origin (see dpop TestAttackDPoPOriginUnicodeScheme), and " +
			"policy should refuse a scheme other than http/https (ASCII, case-insensitive).")
	}
}

// Token type spellings: any case of DPoP with its key is sent with the
// canonical "DPoP" scheme and refused by Credential; a Bearer-typed token
// that happens to carry a key is a Bearer token (the type decides; the
// token-request side never yields one, see oauth2auth's
// TestAttackDPoPCachedBearerWithKey).
func TestAttackDPoPTypeSpellings(t *testing.T) {
	for _, tc := range []struct {
		typ, wantScheme string
		credential      bool
	}{
		{"dpop", "DPoP", false},
		{"DPOP", "DPoP", false},
		{"dPoP", "DPoP", false},
		{"Bearer", "Bearer", true},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			f.typ = tc.typ
			srv := &dpopServer{}
			tr := newTestTransport(t, f, clock, srv)
			_, err := tr.Credential(t.Context())
			assert.Equal(t, tc.credential, err == nil, "Credential err %v", err)
			send(t, tr, http.MethodGet, api, nil)
			got := authorization(srv.sent()[0])
			require.Len(t, got, 1)
			assert.True(t, strings.HasPrefix(got[0], tc.wantScheme+" "), "Authorization %q", got[0])
			hasProof := srv.sent()[0].Header.Get("DPoP") != ""
			assert.Equal(t, tc.wantScheme == "DPoP", hasProof, "proof sent")
		})
	}
}
