package base

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review of 6145531/523840f on the sender: htu with req.Host, the nonce
// bucket, the second nonce challenge.

// The proof names req.Host (the virtual host the server sees); the nonce
// it carries should be that server's too. Two virtual hosts reached at one
// address each send their own nonce.
func TestReviewNoncePerVirtualHost(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	srv.answer = func(_ int, req *http.Request) *http.Response {
		return answerWith(http.StatusOK, http.Header{"Dpop-Nonce": {"nonce-of-" + req.Host}})
	}
	tr := newTestTransport(t, f, clock, srv)
	for _, host := range []string{"a.example", "b.example", "a.example"} {
		req, err := http.NewRequest(http.MethodGet, "https://10.0.0.7/x", nil)
		require.NoError(t, err)
		req.Host = host
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	sent := srv.sent()
	require.Len(t, sent, 3)
	c2 := proofOf(t, sent[2], f.key)
	assert.Equal(t, "https://a.example/x", c2.HTU)
	if c2.Nonce != "nonce-of-a.example" {
		t.Fatalf("regression (low): base/dpop.go:63 the nonce is remembered and looked up under dpop.Origin(req.URL) while the proof's htu uses req.Host (proofTarget): virtual hosts at one address share one nonce, so a.example's proof carried %q (b.example's) and costs a use_dpop_nonce round trip per alternation; fix: origin := dpop.Origin(proofTarget(req))", c2.Nonce)
	}
}

// A replay answered by a second nonce challenge hands that 401 to the
// caller, keeps the token (no token request, no backoff), and the next
// request carries the newest nonce.
func TestReviewSecondNonceChallengeKeepsToken(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	srv.answer = func(n int, _ *http.Request) *http.Response {
		switch n {
		case 1:
			return nonceChallenge("n-1")
		case 2:
			return nonceChallenge("n-2")
		}
		return answerWith(http.StatusOK, nil)
	}
	tr := newTestTransport(t, f, clock, srv)
	assert.Equal(t, http.StatusUnauthorized, send(t, tr, http.MethodGet, api, nil).StatusCode)
	assert.Equal(t, http.StatusOK, send(t, tr, http.MethodGet, api, nil).StatusCode)
	sent := srv.sent()
	require.Len(t, sent, 3)
	assert.Equal(t, "n-2", proofOf(t, sent[2], f.key).Nonce)
	assert.Equal(t, 1, f.calls(), "the token was not retired")
}

// A hand-built URL whose scheme is not http or https gets no credentials
// (and RoundTrip does not panic on it).
func TestReviewPolicySchemes(t *testing.T) {
	clock := newClock()
	f := newDPoPFake(t, clock)
	srv := &dpopServer{}
	tr := newTestTransport(t, f, clock, srv)
	for _, scheme := range []string{"HTTPS", "ftp", "ſtp", "", "wss"} {
		req, err := http.NewRequest(http.MethodGet, api, nil)
		require.NoError(t, err)
		req.URL.Scheme = scheme
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		assert.Error(t, err, "scheme %q", scheme)
	}
	assert.Empty(t, srv.sent(), "nothing sent")
}
