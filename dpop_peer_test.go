package authorizer_test

// End-to-end tests of DPoP (RFC 9449, issue 13) against the real
// oidc-provider that scripts/test.sh starts: tokens bound to the caller's
// key come from the peer (clients sdk-dpop and sdk-dpop-native, nonces
// required at its token endpoint), base.Transport sends them with a fresh
// proof per request through http.Client, and a local API protected by
// verify.Middleware (keys from the peer's discovery document) accepts
// them, and refuses replayed, misdirected, foreign and Bearer
// presentations.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The peer's API resource (RFC 8707): its access tokens are JWTs with this
// audience and, when DPoP-bound, a cnf.jkt claim.
const dpopResource = "urn:sdk-test:api"

var dpopClient = data.ClientInfo{ClientID: "sdk-dpop", ClientSecret: "sdk-dpop-secret"}

// seenRequest is what the API saw of a request it accepted.
type seenRequest struct {
	method, path, body string
	scheme, token      string // of the Authorization header
	jkt                string // verify.Claims.KeyThumbprint
	proof              proofClaims
}

// proofClaims are the claims of a DPoP proof (read, not verified: the
// middleware verified it before the handler runs).
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// dpopAPI is a local API protected by verify.Middleware with the peer's
// keys; it records the requests it accepts and counts every request.
type dpopAPI struct {
	*httptest.Server
	v    *verify.Verifier
	hits atomic.Int32 // every request, accepted or not
	mu   sync.Mutex   // guards seen
	seen []seenRequest
}

func newDPoPAPI(t *testing.T, issuer string, opts ...verify.Option) *dpopAPI {
	t.Helper()
	keys := verify.Discover(issuer)
	t.Cleanup(func() { keys.Close() })
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{dpopResource}}, opts...)
	require.NoError(t, err)
	a := &dpopAPI{v: v}
	var protected http.Handler
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		protected.ServeHTTP(w, r)
	}))
	// The origin the API is reached at, as a deployed API configures it:
	// the Host header is the client's word.
	protected = verify.Middleware(v, verify.WithExternalOrigin("http://"+a.Listener.Addr().String()))(http.HandlerFunc(a.accept))
	a.Start()
	t.Cleanup(a.Close)
	return a
}

func (a *dpopAPI) accept(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s := seenRequest{method: r.Method, path: r.URL.Path, body: string(body), scheme: scheme, token: tok,
		jkt: verify.ClaimsFrom(r.Context()).KeyThumbprint}
	if err := decodeJWTPart(r.Header.Get(dpop.Header), 1, &s.proof); err != nil {
		http.Error(w, "unreadable proof", http.StatusInternalServerError)
		return
	}
	a.mu.Lock()
	a.seen = append(a.seen, s)
	a.mu.Unlock()
	io.WriteString(w, "ok")
}

func (a *dpopAPI) accepted() []seenRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seenRequest(nil), a.seen...)
}

// decodeJWTPart decodes part i (0 header, 1 claims) of a compact JWS.
func decodeJWTPart(jws string, i int, v any) error {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// tokenJKT is the cnf.jkt claim of a JWT access token.
func tokenJKT(t *testing.T, accessToken string) string {
	t.Helper()
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	require.NoError(t, decodeJWTPart(accessToken, 1, &c), "the access token is a JWT (ask for the resource)")
	return c.Cnf.JKT
}

// events counts a Transport's lifecycle events by kind.
type events struct {
	mu sync.Mutex // guards n
	n  map[base.EventKind]int
}

func (e *events) hook(ev base.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[base.EventKind]int{}
	}
	e.n[ev.Kind]++
}

func (e *events) count(k base.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[k]
}

// exchange is one request a Transport sent and the answer it got.
type exchange struct {
	method, path string
	header       http.Header // the request's, as sent
	status       int
	answer       http.Header
}

// wireRecorder is the RoundTripper under a Transport (base.WithBase): it
// records what the Transport sends. Requests to paths under /held/ are
// recorded and answered 204 here, never reaching the API: their proofs
// stay unused.
type wireRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex // guards log
	log  []exchange
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	x := exchange{method: r.Method, path: r.URL.Path, header: r.Header.Clone()}
	var resp *http.Response
	if strings.HasPrefix(r.URL.Path, "/held/") {
		if r.Body != nil {
			r.Body.Close()
		}
		resp = &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody, Request: r}
	} else {
		var err error
		if resp, err = w.next.RoundTrip(r); err != nil {
			return nil, err
		}
	}
	x.status, x.answer = resp.StatusCode, resp.Header.Clone()
	w.mu.Lock()
	w.log = append(w.log, x)
	w.mu.Unlock()
	return resp, nil
}

func (w *wireRecorder) exchanges() []exchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]exchange(nil), w.log...)
}

// tokenEndpoint counts the answers of the peer's token endpoint by status.
type tokenEndpoint struct {
	mu     sync.Mutex // guards status
	status map[int]int
}

func (c *tokenEndpoint) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/token") {
		c.mu.Lock()
		if c.status == nil {
			c.status = map[int]int{}
		}
		c.status[resp.StatusCode]++
		c.mu.Unlock()
	}
	return resp, err
}

func (c *tokenEndpoint) answers(status int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status[status]
}

// newDPoPServiceAccount is sdk-dpop with a generated DPoP key, asking for
// the API resource; its token requests go through tokens.
func newDPoPServiceAccount(t *testing.T, issuer string, tokens *tokenEndpoint) *oauth2auth.ServiceAccountAuthorizer {
	t.Helper()
	env := oauth2auth.Environment{Name: "dpop-e2e", Issuer: issuer, Resources: []string{dpopResource}, Scopes: []string{"api:read"}}
	a, err := oauth2auth.NewServiceAccountAuthorizer(dpopClient, env,
		oauth2auth.WithDPoP(nil), oauth2auth.WithHTTPClient(&http.Client{Transport: tokens}))
	require.NoError(t, err)
	return a
}

// sendRaw sends a request with the given headers, bypassing the Transport,
// and returns the status and the WWW-Authenticate challenges.
func sendRaw(t *testing.T, method, target string, header http.Header) (int, []string) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	require.NoError(t, err)
	req.Header = header.Clone()
	resp, err := (&http.Client{}).Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Issue 13 proof 1: client credentials get a DPoP token bound to the
// authorizer's key; GETs (concurrent) and a POST with a body through
// http.Client are accepted by the API, each with its own proof.
func TestPeerDPoPClientCredentialsThroughHTTPClient(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	api := newDPoPAPI(t, issuer)
	tokens := &tokenEndpoint{}
	var ev events
	tr := base.NewTransport(newDPoPServiceAccount(t, issuer, tokens), base.WithHook(ev.hook))
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	key := dpop.KeyOf(tok)
	require.True(t, dpop.IsDPoP(tok), "token_type %q; want DPoP", tok.TokenType)
	require.NotNil(t, key, "the token carries the key it is bound to")
	assert.Equal(t, key.Thumbprint(), tokenJKT(t, tok.AccessToken), "cnf.jkt names the authorizer's key")

	const gets = 12
	var wg sync.WaitGroup
	for range gets {
		wg.Go(func() {
			resp, err := client.Get(api.URL + "/orders")
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	const body = `{"item":"paper","count":3}`
	resp, err := client.Post(api.URL+"/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	seen := api.accepted()
	require.Len(t, seen, gets+1)
	jtis := map[string]bool{}
	for _, s := range seen {
		jtis[s.proof.JTI] = true
		assert.Equal(t, "DPoP", s.scheme, "sent as Authorization: DPoP")
		assert.Equal(t, tok.AccessToken, s.token, "one token for every request")
		assert.Equal(t, key.Thumbprint(), s.jkt)
		assert.Equal(t, s.method, s.proof.HTM)
		assert.Equal(t, api.URL+"/orders", s.proof.HTU)
		assert.Equal(t, dpop.AccessTokenHash(tok.AccessToken), s.proof.ATH)
	}
	assert.Len(t, jtis, gets+1, "a fresh proof (jti) for every request")
	post := seen[len(seen)-1]
	assert.Equal(t, http.MethodPost, post.method)
	assert.Equal(t, body, post.body, "the POST body arrives whole")
	assert.EqualValues(t, gets+1, api.hits.Load(), "no request was refused first")
	assert.Equal(t, 1, ev.count(base.EventFetched), "one token for all requests")
	assert.Equal(t, 1, tokens.answers(http.StatusOK), "one token issued")
}

// Issue 13 proof 2: a user session (device flow, public client
// sdk-dpop-native) on the peer whose tokens live 5 s: once the token has
// expired the Transport refreshes it once, and the new token is bound to
// the same key and accepted by the API.
func TestPeerDPoPRefreshedSessionThroughHTTPClient(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	api := newDPoPAPI(t, issuer)
	var prompts atomic.Int32
	prompt := func(ctx context.Context, p oauth2auth.DevicePrompt) error {
		prompts.Add(1)
		return peertest.NewUser("dpop-erin").ApproveDevice(ctx, issuer, p.UserCode)
	}
	env := oauth2auth.Environment{Name: "dpop-e2e-user", Issuer: issuer, Resources: []string{dpopResource},
		Scopes: []string{"openid", "offline_access", "api:read"}}
	authz, err := oauth2auth.NewDeviceAuthorizer(data.ClientInfo{ClientID: "sdk-dpop-native"}, env,
		oauth2auth.WithDPoP(nil), oauth2auth.WithDevicePrompt(prompt))
	require.NoError(t, err)
	var ev events
	// No refresh ahead: the request after expiry waits for the refresh,
	// so the test sees it happen on that request and nowhere else.
	tr := base.NewTransport(authz, base.WithRefreshAhead(0), base.WithHook(ev.hook))
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	get := func() {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/me", nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	get() // signs in (device flow)
	first := api.accepted()[0]
	require.Equal(t, "DPoP", first.scheme)
	jkt := tokenJKT(t, first.token)
	require.NotEmpty(t, jkt, "the session's access token is bound to a key")
	assert.Equal(t, jkt, first.jkt)
	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	require.NotNil(t, dpop.KeyOf(tok))
	assert.Equal(t, dpop.KeyOf(tok).Thumbprint(), jkt, "bound to the authorizer's key")
	require.NotEmpty(t, tok.RefreshToken)

	// Wait (real time, the peer's clock) until the token has expired; any
	// delay only makes it more expired.
	for time.Now().Before(tok.Expiry) {
		select {
		case <-ctx.Done():
			t.Fatal("timed out waiting for the token to expire")
		case <-time.After(time.Until(tok.Expiry) + 10*time.Millisecond):
		}
	}
	refreshes := ev.count(base.EventRefreshed)
	get()
	assert.Equal(t, refreshes+1, ev.count(base.EventRefreshed), "one refresh for the request after expiry")
	assert.Equal(t, 1, ev.count(base.EventFetched), "signed in once")
	assert.EqualValues(t, 1, prompts.Load(), "the user was asked once")

	seen := api.accepted()
	last := seen[len(seen)-1]
	assert.Equal(t, "DPoP", last.scheme)
	assert.NotEqual(t, first.token, last.token, "a new access token")
	assert.Equal(t, jkt, tokenJKT(t, last.token), "the refreshed token is bound to the same key")
	assert.Equal(t, jkt, last.jkt)
	assert.NotEqual(t, first.proof.JTI, last.proof.JTI)
	assert.Equal(t, dpop.AccessTokenHash(last.token), last.proof.ATH, "the proof names the new token")
	assert.EqualValues(t, len(seen), api.hits.Load(), "the API refused nothing")
}

// Issue 13 proof 3: the API refuses a replayed proof, a proof for another
// URL, the bound token presented as Bearer, and a proof signed by another
// key, each with its challenge; Verifier.VerifyDPoP and Verify give the
// typed reasons. The refusals do not affect the Transport's token.
func TestPeerDPoPRefusals(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	api := newDPoPAPI(t, issuer)
	rec := &wireRecorder{next: http.DefaultTransport}
	var ev events
	tr := base.NewTransport(newDPoPServiceAccount(t, issuer, &tokenEndpoint{}), base.WithBase(rec), base.WithHook(ev.hook))
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	do := func(path string) {
		t.Helper()
		resp, err := client.Get(api.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	do("/orders")
	do("/held/a") // recorded, never sent: its proof is unused
	log := rec.exchanges()
	require.Len(t, log, 2)
	sent, held := log[0], log[1]
	require.Equal(t, http.StatusOK, sent.status)
	tok, err := tr.Token(ctx)
	require.NoError(t, err)
	key := dpop.KeyOf(tok)
	require.NotNil(t, key)
	proofInvalid := `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"`
	typed := func(err error, want error, reason authorizer.TokenReason) {
		t.Helper()
		var bad *authorizer.InvalidTokenError
		if assert.ErrorAs(t, err, &bad) {
			assert.Equal(t, reason, bad.Reason)
		}
		assert.ErrorIs(t, err, want)
		assert.NotContains(t, err.Error(), tok.AccessToken)
	}

	t.Run("replayed proof", func(t *testing.T) {
		status, challenge := sendRaw(t, "GET", api.URL+"/orders", sent.header)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, []string{proofInvalid, "Bearer"}, challenge)
		_, err := api.v.VerifyDPoP(ctx, tok.AccessToken, sent.header.Get("DPoP"), "GET", mustURL(t, api.URL+"/orders"))
		typed(err, authorizer.ErrTokenDPoPReplay, authorizer.TokenDPoPReplay)
	})
	t.Run("proof for another URL", func(t *testing.T) {
		status, challenge := sendRaw(t, "GET", api.URL+"/admin", held.header)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, []string{proofInvalid, "Bearer"}, challenge)
		status, _ = sendRaw(t, "POST", api.URL+"/held/a", held.header)
		assert.Equal(t, http.StatusUnauthorized, status, "another method")
		_, err := api.v.VerifyDPoP(ctx, tok.AccessToken, held.header.Get("DPoP"), "GET", mustURL(t, api.URL+"/admin"))
		typed(err, authorizer.ErrTokenDPoPProof, authorizer.TokenDPoPProof)
		// The same headers where they were meant to go: accepted once, so
		// the refusals above were for the URL and method alone.
		status, _ = sendRaw(t, "GET", api.URL+"/held/a", held.header)
		assert.Equal(t, http.StatusOK, status, "the held proof is good for its own URL")
		status, challenge = sendRaw(t, "GET", api.URL+"/held/a", held.header)
		assert.Equal(t, http.StatusUnauthorized, status, "and only once")
		assert.Equal(t, []string{proofInvalid, "Bearer"}, challenge)
	})
	t.Run("bound token as Bearer", func(t *testing.T) {
		status, challenge := sendRaw(t, "GET", api.URL+"/orders", http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, []string{`Bearer error="invalid_token"`, `DPoP algs="ES256 EdDSA"`}, challenge)
		// With its (unused) proof beside it: still refused as Bearer.
		h := held.header.Clone()
		h.Set("Authorization", "Bearer "+tok.AccessToken)
		status, _ = sendRaw(t, "GET", api.URL+"/held/a", h)
		assert.Equal(t, http.StatusUnauthorized, status)
		_, err := api.v.Verify(ctx, tok.AccessToken)
		typed(err, authorizer.ErrTokenDPoPBinding, authorizer.TokenDPoPBinding)
	})
	t.Run("proof signed by another key", func(t *testing.T) {
		target := mustURL(t, api.URL+"/orders")
		other, err := dpop.GenerateKey()
		require.NoError(t, err)
		forged, err := other.Proof("GET", target, tok.AccessToken, "", time.Now())
		require.NoError(t, err)
		h := http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {forged}}
		status, challenge := sendRaw(t, "GET", target.String(), h)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, []string{proofInvalid, "Bearer"}, challenge)
		again, err := other.Proof("GET", target, tok.AccessToken, "", time.Now())
		require.NoError(t, err)
		_, err = api.v.VerifyDPoP(ctx, tok.AccessToken, again, "GET", target)
		typed(err, authorizer.ErrTokenDPoPProof, authorizer.TokenDPoPProof)
		// The same request with the bound key's proof is accepted.
		good, err := key.Proof("GET", target, tok.AccessToken, "", time.Now())
		require.NoError(t, err)
		h.Set("DPoP", good)
		status, _ = sendRaw(t, "GET", target.String(), h)
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("DPoP token without a proof", func(t *testing.T) {
		status, challenge := sendRaw(t, "GET", api.URL+"/orders", http.Header{"Authorization": {"DPoP " + tok.AccessToken}})
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, []string{proofInvalid, "Bearer"}, challenge)
	})

	do("/orders")
	log = rec.exchanges()
	assert.Equal(t, http.StatusOK, log[len(log)-1].status, "the Transport's token still works")
	assert.Equal(t, 1, ev.count(base.EventFetched), "the refusals retired no token")
	assert.Equal(t, 0, ev.count(base.EventInvalidated))
}

// Issue 13 proof 4: an API that requires its own nonces (RFC 9449 §9).
// The Transport's first request is answered 401 use_dpop_nonce; it is sent
// once more, body included, with the nonce, and the caller sees 200. The
// next request carries the remembered nonce at once. One token.
func TestPeerDPoPResourceServerNonce(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	secret := []byte("dpop-e2e resource nonce secret, 32+ bytes, test only")
	// An hour's slot: a nonce is accepted in its slot and the next, so
	// no slot boundary can fall between the challenge and the replay.
	api := newDPoPAPI(t, issuer, verify.WithDPoPNonces(secret, time.Hour))
	rec := &wireRecorder{next: http.DefaultTransport}
	tokens := &tokenEndpoint{}
	var ev events
	tr := base.NewTransport(newDPoPServiceAccount(t, issuer, tokens), base.WithBase(rec), base.WithHook(ev.hook))
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}

	const body = `{"item":"ink"}`
	resp, err := client.Post(api.URL+"/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the caller sees the replay's answer")

	log := rec.exchanges()
	require.Len(t, log, 2, "the request and one replay")
	challenge, replay := log[0], log[1]
	assert.Equal(t, http.StatusUnauthorized, challenge.status)
	assert.Contains(t, challenge.answer.Get("WWW-Authenticate"), `DPoP error="use_dpop_nonce"`)
	nonce := challenge.answer.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	var firstProof, replayProof proofClaims
	require.NoError(t, decodeJWTPart(challenge.header.Get("DPoP"), 1, &firstProof))
	require.NoError(t, decodeJWTPart(replay.header.Get("DPoP"), 1, &replayProof))
	assert.Empty(t, firstProof.Nonce, "no nonce before the API named one")
	assert.Equal(t, nonce, replayProof.Nonce)
	assert.NotEqual(t, firstProof.JTI, replayProof.JTI, "a new proof for the replay")
	assert.Equal(t, challenge.header.Get("Authorization"), replay.header.Get("Authorization"), "the same token")
	assert.Equal(t, http.StatusOK, replay.status)

	seen := api.accepted()
	require.Len(t, seen, 1)
	assert.Equal(t, body, seen[0].body, "the replay carried the body")
	assert.Equal(t, nonce, seen[0].proof.Nonce)

	// The nonce is remembered: the next request needs no challenge.
	resp, err = client.Get(api.URL + "/orders")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, 3, api.hits.Load(), "2 for the first request, 1 for the second")
	assert.Equal(t, 1, ev.count(base.EventFetched), "one token request")
	assert.Equal(t, 0, ev.count(base.EventInvalidated), "the nonce challenge did not retire the token")
	assert.Equal(t, 1, tokens.answers(http.StatusOK), "one token issued")

	// A proof without the nonce, sent by hand: refused with the challenge,
	// typed ErrTokenDPoPNonce.
	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	target := mustURL(t, api.URL+"/orders")
	bare, err := dpop.KeyOf(tok).Proof("GET", target, tok.AccessToken, "", time.Now())
	require.NoError(t, err)
	status, challenges := sendRaw(t, "GET", target.String(), http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {bare}})
	assert.Equal(t, http.StatusUnauthorized, status)
	require.NotEmpty(t, challenges)
	assert.True(t, strings.HasPrefix(challenges[0], `DPoP error="use_dpop_nonce"`), "challenge %q", challenges[0])
	bare, err = dpop.KeyOf(tok).Proof("GET", target, tok.AccessToken, "", time.Now())
	require.NoError(t, err)
	_, err = api.v.VerifyDPoP(context.Background(), tok.AccessToken, bare, "GET", target)
	assert.ErrorIs(t, err, authorizer.ErrTokenDPoPNonce)
}
