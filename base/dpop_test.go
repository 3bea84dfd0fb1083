package base

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// dpopFake is a fakeAuthorizer whose tokens are DPoP tokens bound to key
// (or, with key nil, DPoP tokens without a key, as a serialising cache
// would leave them).
type dpopFake struct {
	*fakeAuthorizer
	key     *dpop.Key
	typ     string // TokenType, "DPoP" unless set
	keyless atomic.Bool
}

func newDPoPFake(t *testing.T, clock *fakeClock) *dpopFake {
	t.Helper()
	k, err := dpop.GenerateKey()
	require.NoError(t, err)
	return &dpopFake{fakeAuthorizer: newFake(clock), key: k, typ: dpop.TokenType}
}

func (f *dpopFake) bind(tok *oauth2.Token, err error) (*oauth2.Token, error) {
	if err != nil {
		return nil, err
	}
	tok.TokenType = f.typ
	if f.keyless.Load() {
		return tok, nil
	}
	return dpop.Bind(tok, f.key), nil
}

func (f *dpopFake) Authorize(ctx context.Context) (*oauth2.Token, error) {
	return f.bind(f.fakeAuthorizer.Authorize(ctx))
}

func (f *dpopFake) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	return f.bind(f.fakeAuthorizer.Refresh(ctx, tok))
}

// dpopServer is an inner RoundTripper that records what it was sent
// and answers with answer(n, req), n counting requests from 1.
type dpopServer struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	answer   func(n int, req *http.Request) *http.Response // 200 when nil
}

func (s *dpopServer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body string
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		body = string(b)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.bodies = append(s.bodies, body)
	n, answer := len(s.requests), s.answer
	s.mu.Unlock()
	if answer == nil {
		return answerWith(http.StatusOK, nil), nil
	}
	resp := answer(n, req)
	resp.Request = req
	return resp, nil
}

func (s *dpopServer) sent() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// answerWith is a response with status and header h, body "ok".
func answerWith(status int, h http.Header) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("ok"))}
}

// nonceChallenge is a resource server's 401 asking for nonce (RFC 9449 §9).
func nonceChallenge(nonce string) *http.Response {
	return answerWith(http.StatusUnauthorized, http.Header{
		"Www-Authenticate": {`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`},
		"Dpop-Nonce":       {nonce},
	})
}

// proofClaims are the claims of a proof the tests decode.
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// proofOf checks that req carries exactly one DPoP header, a proof signed
// by key with a valid header, and returns its claims.
func proofOf(t *testing.T, req *http.Request, key *dpop.Key) proofClaims {
	t.Helper()
	var proofs []string
	for k, v := range req.Header {
		if strings.EqualFold(k, dpop.Header) {
			proofs = append(proofs, v...)
		}
	}
	require.Len(t, proofs, 1, "DPoP headers in every case")
	parts := strings.Split(proofs[0], ".")
	require.Len(t, parts, 3)
	b64 := base64.RawURLEncoding
	var head struct {
		Typ string          `json:"typ"`
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}
	raw, err := b64.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &head))
	assert.Equal(t, dpop.ProofType, head.Typ)
	assert.Equal(t, key.Algorithm(), head.Alg)
	assert.JSONEq(t, key.PublicJWK(), string(head.JWK))
	sig, err := b64.DecodeString(parts[2])
	require.NoError(t, err)
	assert.True(t, verifySig(key, parts[0]+"."+parts[1], sig), "proof signature")
	var c proofClaims
	raw, err = b64.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

func verifySig(key *dpop.Key, input string, sig []byte) bool {
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		d := sha256.Sum256([]byte(input))
		return len(sig) == 64 && ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		return ed25519.Verify(pub, []byte(input), sig)
	}
	return false
}

// authorization returns req's Authorization values in every case.
func authorization(req *http.Request) []string {
	var out []string
	for k, v := range req.Header {
		if strings.EqualFold(k, "Authorization") {
			out = append(out, v...)
		}
	}
	return out
}

func send(t *testing.T, tr http.RoundTripper, method, target string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// Every request with a DPoP token carries "Authorization: DPoP <token>"
// and a new proof: htm, htu without query and fragment, iat now, a unique
// jti, ath of the token; no nonce until a server sends one. Ed25519 too,
// and a token type in another case.
func TestDPoPProofPerRequest(t *testing.T) {
	for _, alg := range []string{dpop.ES256, dpop.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			f.typ = "dpop"
			if alg == dpop.EdDSA {
				_, priv, err := ed25519.GenerateKey(nil)
				require.NoError(t, err)
				f.key, err = dpop.NewKey(priv)
				require.NoError(t, err)
			}
			srv := &dpopServer{}
			tr := newTestTransport(t, f, clock, srv)
			send(t, tr, http.MethodGet, api+"?q=secret#frag", nil)
			clock.Advance(7e9)
			send(t, tr, http.MethodPost, "HTTPS://API.example.test:443/v1/things/", strings.NewReader("x"))
			req, err := http.NewRequest(http.MethodGet, api, nil)
			require.NoError(t, err)
			req.Method = "" // net/http's GET
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()

			sent := srv.sent()
			require.Len(t, sent, 3)
			want := []struct{ htm, htu string }{
				{"GET", api}, {"POST", api + "/"}, {"GET", api},
			}
			jtis := map[string]bool{}
			for i, r := range sent {
				assert.Equal(t, []string{"DPoP token-1"}, authorization(r), "request %d", i)
				c := proofOf(t, r, f.key)
				assert.Equal(t, want[i].htm, c.HTM)
				assert.Equal(t, want[i].htu, c.HTU)
				assert.Equal(t, dpop.AccessTokenHash("token-1"), c.ATH)
				assert.Empty(t, c.Nonce)
				assert.NotEmpty(t, c.JTI)
				assert.False(t, jtis[c.JTI], "jti %q repeated", c.JTI)
				jtis[c.JTI] = true
			}
			assert.Equal(t, clock.Now().Add(-7e9).Unix(), proofOf(t, sent[0], f.key).IAT)
			assert.Equal(t, clock.Now().Unix(), proofOf(t, sent[1], f.key).IAT)
			assert.Equal(t, 1, f.calls(), "one token for every request")
		})
	}
}

// A caller's own DPoP and Authorization headers, in any case, never travel
// beside the SDK's; a caller's DPoP header beside a Bearer token stays
// (the Bearer path is unchanged).
func TestDPoPCallerHeadersStripped(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	tr := newTestTransport(t, f, clock, srv)
	req, err := http.NewRequest(http.MethodGet, api, nil)
	require.NoError(t, err)
	req.Header = http.Header{
		"Dpop": {"caller-proof"}, "dpop": {"caller-proof"}, "DPOP": {"caller-proof"}, "DPoP": {"caller-proof"},
		"Authorization": {"Bearer caller"}, "authorization": {"DPoP caller"}, "Accept": {"application/json"},
	}
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	r := srv.sent()[0]
	assert.Equal(t, []string{"DPoP token-1"}, authorization(r))
	proofOf(t, r, f.key) // exactly one DPoP header, ours
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Len(t, req.Header, 7, "the caller's request is not modified")

	bearer := &dpopServer{}
	btr := newTestTransport(t, newFake(clock), clock, bearer)
	req.Header = http.Header{"Dpop": {"caller-proof"}}
	resp, err = btr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "caller-proof", bearer.sent()[0].Header.Get("DPoP"))
	assert.Equal(t, "Bearer token-1", bearer.sent()[0].Header.Get("Authorization"))
}

// A DPoP token without its key is refused at adoption: a failed token
// request like any other refused token (the next caller meets the
// backoff), nothing is sent, never as Bearer.
func TestDPoPKeylessTokenRefused(t *testing.T) {
	for _, typ := range []string{"DPoP", "dpop", "DPOP"} {
		t.Run(typ, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			f.typ = typ
			f.keyless.Store(true)
			srv := &dpopServer{}
			tr := newTestTransport(t, f, clock, srv)
			_, err := tr.Token(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, err.Error(), "carries no key")
			assert.NotContains(t, err.Error(), "token-1")
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			_, err = tr.RoundTrip(req)
			require.ErrorIs(t, err, authorizer.ErrBackoff, "counts as a failed token request")
			assert.Empty(t, srv.sent())
			assert.Equal(t, 1, f.calls())
		})
	}
}

// A nonce challenge does not retire the token: the request is sent once
// more, its body replayed, with a new proof carrying the nonce, after the
// 401's body was released; the next request carries the nonce at once.
func TestDPoPNonceChallengeReplaysOnce(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	var first *closeTracker
	srv := &dpopServer{}
	srv.answer = func(n int, req *http.Request) *http.Response {
		if n == 1 {
			resp := nonceChallenge("n-1")
			first = &closeTracker{Reader: strings.NewReader("use a nonce")}
			resp.Body = first
			return resp
		}
		assert.True(t, first.closed.Load(), "the 401's body is released before the replay")
		return answerWith(http.StatusOK, nil)
	}
	tr := newTestTransport(t, f, clock, srv)
	resp := send(t, tr, http.MethodPost, api, strings.NewReader("payload"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	send(t, tr, http.MethodGet, api, nil)

	sent := srv.sent()
	require.Len(t, sent, 3)
	c0, c1, c2 := proofOf(t, sent[0], f.key), proofOf(t, sent[1], f.key), proofOf(t, sent[2], f.key)
	assert.Empty(t, c0.Nonce)
	assert.Equal(t, "n-1", c1.Nonce)
	assert.Equal(t, "n-1", c2.Nonce, "remembered for the next request")
	assert.NotEqual(t, c0.JTI, c1.JTI)
	assert.Equal(t, []string{"payload", "payload", ""}, srv.bodies)
	for _, r := range sent {
		assert.Equal(t, []string{"DPoP token-1"}, authorization(r))
	}
	assert.Equal(t, 1, f.calls(), "the token was not retired")
}

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (b *closeTracker) Close() error { b.closed.Store(true); return nil }

// Body rules: a body that cannot be replayed gets the challenge as it
// came, the token stays, and the next request carries the nonce.
func TestDPoPNonceChallengeUnreplayableBody(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
		if n == 1 {
			return nonceChallenge("n-1")
		}
		return answerWith(http.StatusOK, nil)
	}}
	tr := newTestTransport(t, f, clock, srv)
	req, _ := http.NewRequest(http.MethodPost, api, io.MultiReader(strings.NewReader("once")))
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Len(t, srv.sent(), 1)
	send(t, tr, http.MethodGet, api, nil)
	require.Len(t, srv.sent(), 2)
	assert.Equal(t, "n-1", proofOf(t, srv.sent()[1], f.key).Nonce)
	assert.Equal(t, 1, f.calls(), "the token was not retired")

	// A GetBody that fails leaves the challenge as it came, too.
	srv.mu.Lock()
	srv.answer = func(int, *http.Request) *http.Response { return nonceChallenge("n-2") }
	srv.mu.Unlock()
	req, _ = http.NewRequest(http.MethodPost, api, strings.NewReader("x"))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("gone") }
	resp, err = tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Len(t, srv.sent(), 3)
	assert.Equal(t, 1, f.calls())
}

// A 401 to the nonce replay is an ordinary 401: the token is retired, one
// new token, one replay (with a new proof and ath); a server that
// challenges for ever gets four requests, never more. (Request 1 is a GET
// the server accepts: a token refused before any acceptance backs off
// instead of being replaced, as for Bearer.)
func TestDPoPNonceChallengeThen401Bounded(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(n int, req *http.Request) *http.Response
		wantSent int
		want     int
		nonces   []string // of each proof, when set
		// wantTokens is the count of token requests (0: two)
		wantTokens int
	}{
		{name: "nonce, then 401, then the new token works", wantSent: 3, want: http.StatusOK,
			answer: func(n int, req *http.Request) *http.Response {
				switch {
				case n == 1:
					return answerWith(http.StatusOK, nil)
				case n == 2:
					return nonceChallenge("n-1")
				case req.Header.Get("Authorization") == "DPoP token-1":
					return answerWith(http.StatusUnauthorized, http.Header{"Www-Authenticate": {`DPoP error="invalid_token"`}})
				}
				return answerWith(http.StatusOK, nil)
			}},
		// a second challenge is the nonce changing meanwhile, not a refusal
		// of the token: the caller gets it, the token is kept
		{name: "nonce challenges for ever", wantSent: 2, want: http.StatusUnauthorized, wantTokens: 1,
			nonces: []string{"", "n-2"},
			answer: func(n int, req *http.Request) *http.Response {
				if n == 1 {
					return answerWith(http.StatusOK, nil)
				}
				return nonceChallenge("n-" + string(rune('0'+n)))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			srv := &dpopServer{answer: tt.answer}
			tr := newTestTransport(t, f, clock, srv)
			send(t, tr, http.MethodGet, api, nil)
			resp := send(t, tr, http.MethodPost, api, strings.NewReader("payload"))
			assert.Equal(t, tt.want, resp.StatusCode)
			sent := srv.sent()[1:]
			require.Len(t, sent, tt.wantSent)
			wantAuth := []string{"DPoP token-1", "DPoP token-1", "DPoP token-2", "DPoP token-2"}
			for i, r := range sent {
				assert.Equal(t, []string{wantAuth[i]}, authorization(r), "request %d", i)
				tok := strings.TrimPrefix(wantAuth[i], "DPoP ")
				assert.Equal(t, dpop.AccessTokenHash(tok), proofOf(t, r, f.key).ATH)
				assert.Equal(t, "payload", srv.bodies[i+1])
				if tt.nonces != nil {
					assert.Equal(t, tt.nonces[i], proofOf(t, r, f.key).Nonce, "request %d", i)
				}
			}
			wantTokens := 2 // the first and one new token
			if tt.wantTokens != 0 {
				wantTokens = tt.wantTokens
			}
			assert.Equal(t, wantTokens, f.calls(), "token requests")
		})
	}
}

// A plain 401 to a DPoP token retires it and replays once with the new
// token and a new proof.
func TestDPoP401ReplaysWithNewToken(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
		if req.Header.Get("Authorization") == "DPoP token-1" && n > 1 {
			return answerWith(http.StatusUnauthorized, nil)
		}
		return answerWith(http.StatusOK, nil)
	}}
	tr := newTestTransport(t, f, clock, srv)
	send(t, tr, http.MethodGet, api, nil) // token-1 accepted
	resp := send(t, tr, http.MethodGet, api, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	sent := srv.sent()
	require.Len(t, sent, 3)
	assert.Equal(t, []string{"DPoP token-2"}, authorization(sent[2]))
	assert.Equal(t, dpop.AccessTokenHash("token-2"), proofOf(t, sent[2], f.key).ATH)
	assert.EqualValues(t, 1, f.refresh.Load())
}

// The nonce of every answer to a DPoP request is remembered, per origin:
// a 200's DPoP-Nonce goes with the next request to that origin only.
func TestDPoPNonceRememberedFrom200(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
		if n == 1 {
			return answerWith(http.StatusOK, http.Header{"Dpop-Nonce": {"fresh-1"}})
		}
		return answerWith(http.StatusOK, nil)
	}}
	tr := newTestTransport(t, f, clock, srv)
	send(t, tr, http.MethodGet, api, nil)
	send(t, tr, http.MethodGet, "https://other.example.test/x", nil)
	send(t, tr, http.MethodGet, "https://API.example.test:443/y", nil)
	sent := srv.sent()
	assert.Empty(t, proofOf(t, sent[0], f.key).Nonce)
	assert.Empty(t, proofOf(t, sent[1], f.key).Nonce, "another origin")
	assert.Equal(t, "fresh-1", proofOf(t, sent[2], f.key).Nonce)
}

// A request for which no proof can be signed fails with a typed error
// before anything is sent, and its body is closed.
func TestDPoPProofFailureSendsNothing(t *testing.T) {
	tests := []struct {
		name   string
		method string
		url    *url.URL
	}{
		{name: "method not a token", method: "GE T", url: &url.URL{Scheme: "https", Host: "api.example.test", Path: "/"}},
		{name: "no host", method: http.MethodPost, url: &url.URL{Scheme: "https", Path: "/v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			f := newDPoPFake(t, clock)
			srv := &dpopServer{}
			tr := newTestTransport(t, f, clock, srv)
			body := &closeTracker{Reader: strings.NewReader("x")}
			req := (&http.Request{Method: tt.method, URL: tt.url, Header: http.Header{}, Body: body}).WithContext(context.Background())
			resp, err := tr.RoundTrip(req)
			assert.Nil(t, resp)
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, err.Error(), "DPoP proof")
			assert.True(t, body.closed.Load(), "body closed")
			assert.Empty(t, srv.sent())
		})
	}
}

// DPoP tokens are never written to the cache; a DPoP token in the cache
// without its key is a miss (no error, no backoff); a Bearer token is
// still stored.
func TestDPoPCacheRules(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	cache := NewMemoryCache()
	require.NoError(t, cache.Store(ctx, "k", &oauth2.Token{AccessToken: "cached", TokenType: "DPoP",
		RefreshToken: "r", Expiry: clock.Now().Add(2 * 3600e9), ExpiresIn: 7200}))
	f := newDPoPFake(t, clock)
	tr := newTestTransport(t, f, clock, &dpopServer{}, WithCache(cache, "k"))
	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok.AccessToken, "the keyless cached token is a miss")
	assert.EqualValues(t, 1, f.authorize.Load(), "Authorize, not Refresh with the keyless token")
	stored, err := cache.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "cached", stored.AccessToken, "the DPoP token was not written")

	require.NoError(t, cache.Delete(ctx, "k"))
	tr2 := newTestTransport(t, f, clock, &dpopServer{}, WithCache(cache, "k"))
	_, err = tr2.Token(ctx)
	require.NoError(t, err)
	stored, err = cache.Load(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, stored, "never written")

	b := newFake(clock)
	tr3 := newTestTransport(t, b, clock, &dpopServer{}, WithCache(cache, "k"))
	_, err = tr3.Token(ctx)
	require.NoError(t, err)
	stored, err = cache.Load(ctx, "k")
	require.NoError(t, err)
	require.NotNil(t, stored)
	assert.Equal(t, "Bearer", stored.TokenType, "Bearer tokens are stored as before")
}

// Credential (gRPC) refuses a DPoP token with a typed error saying why;
// the same Transport still sends it over HTTP.
func TestDPoPCredentialRefused(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	tr := newTestTransport(t, f, clock, srv)
	c, err := tr.Credential(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "DPoP")
	assert.Empty(t, c.Authorization())
	send(t, tr, http.MethodGet, api, nil)
	assert.Equal(t, []string{"DPoP token-1"}, authorization(srv.sent()[0]))
}

// After Close, a DPoP request fails with ErrClosed and is not sent.
func TestDPoPAfterClose(t *testing.T) {
	clock := newClock()
	srv := &dpopServer{}
	tr := newTestTransport(t, newDPoPFake(t, clock), clock, srv)
	send(t, tr, http.MethodGet, api, nil)
	require.NoError(t, tr.Close())
	req, _ := http.NewRequest(http.MethodGet, api, nil)
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.Len(t, srv.sent(), 1)
}

// Over a real connection: a loopback httptest server that asks for a nonce
// the way a resource server does sees the token as DPoP, never Bearer, and
// a proof for its own URL.
func TestDPoPOverHTTP(t *testing.T) {
	f := newDPoPFake(t, newClock())
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		assert.Equal(t, "DPoP token-1", r.Header.Get("Authorization"))
		parts := strings.Split(r.Header.Get("DPoP"), ".")
		require.Len(t, parts, 3)
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c proofClaims
		require.NoError(t, json.Unmarshal(raw, &c))
		assert.Equal(t, "http://"+r.Host+"/api", c.HTU)
		if c.Nonce != "server-nonce" {
			w.Header().Set("DPoP-Nonce", "server-nonce")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	tr := NewTransport(f, WithBase(srv.Client().Transport))
	defer tr.Close()
	client := &http.Client{Transport: tr}
	resp, err := client.Post(srv.URL+"/api?x=1", "text/plain", strings.NewReader("body"))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello", string(b))
	assert.EqualValues(t, 2, hits.Load())
	srv.Client().CloseIdleConnections()
}

// Many requests meeting a nonce challenge at once: each is sent at most
// twice, all succeed, one token serves them all.
func TestDPoPConcurrentNonceChallenges(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{answer: func(n int, req *http.Request) *http.Response {
		parts := strings.Split(req.Header.Get("DPoP"), ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c proofClaims
		_ = json.Unmarshal(raw, &c)
		if c.Nonce != "n-1" {
			return nonceChallenge("n-1")
		}
		return answerWith(http.StatusOK, nil)
	}}
	tr := newTestTransport(t, f, clock, srv)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, api, strings.NewReader("payload"))
			resp, err := tr.RoundTrip(req)
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, len(srv.sent()), 100)
	assert.Equal(t, 1, f.calls())
}

// A redirect on the same origin gets a new proof for its own URL; one to
// another origin carries neither the token nor a proof.
func TestDPoPRedirects(t *testing.T) {
	f := newDPoPFake(t, newClock())
	var mu sync.Mutex
	seen := map[string]proofClaims{}
	auth := map[string]string{}
	handler := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		auth[r.URL.Path] = r.Header.Get("Authorization")
		if p := r.Header.Get("DPoP"); p != "" {
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[1])
			var c proofClaims
			_ = json.Unmarshal(raw, &c)
			seen[r.URL.Path] = c
		}
	}
	other := httptest.NewServer(http.HandlerFunc(handler))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, "/next?x=1", http.StatusFound)
		case "/next":
			handler(w, r)
			http.Redirect(w, r, other.URL+"/away", http.StatusFound)
		default:
			handler(w, r)
		}
	}))
	defer srv.Close()
	tr := NewTransport(f, WithBase(http.DefaultTransport))
	defer tr.Close()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/start")
	require.NoError(t, err)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "DPoP token-1", auth["/next"])
	assert.Equal(t, srv.URL+"/next", seen["/next"].HTU)
	assert.Empty(t, auth["/away"], "no token to another origin")
	_, proofAway := seen["/away"]
	assert.False(t, proofAway, "no proof to another origin")
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// A keyless DPoP token in the cache, even one issued later, is never the
// input of Refresh: the Transport renews its own token.
func TestDPoPKeylessCachedNotRefreshed(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	cache := NewMemoryCache()
	f := newDPoPFake(t, clock)
	tr := newTestTransport(t, f, clock, &dpopServer{}, WithCache(cache, "k"))
	_, err := tr.Token(ctx)
	require.NoError(t, err)
	clock.Advance(30 * 60e9)
	require.NoError(t, cache.Store(ctx, "k", &oauth2.Token{AccessToken: "cached", TokenType: "DPoP",
		RefreshToken: "r", Expiry: clock.Now().Add(-60e9), ExpiresIn: 60}))
	clock.Advance(31 * 60e9) // token-1 expired
	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "token-2", tok.AccessToken)
	assert.Equal(t, []string{"token-1"}, f.refreshedWith())
}
