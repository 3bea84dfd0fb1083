package verify_test

// Goroutine-leak checks: a remote key source leaves no goroutine behind
// once closed, including when Close interrupts a fetch that a caller
// stopped waiting for.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// After Close, a source that fetched keys holds no goroutine, and a token
// that needs keys fails with ErrClosed.
func TestIntegrationLeakAfterClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, srv := startPermsvc(t)
	defer srv.Close()
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.PEMURL(srv.URL+"/auth/public-key", verify.WithHTTPClient(counter.client()))
	v, err := verify.New(keys, verify.Expect{Issuer: permIssuer, Audience: []string{"orders"}}, verify.WithCacheSize(0))
	require.NoError(t, err)
	tok := permToken(t, srv, "orders")
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	require.NoError(t, keys.Close())
	require.NoError(t, keys.Close(), "Close twice")
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, authorizer.ErrClosed)
}

// A caller whose ctx ends leaves a fetch stuck on a slow key server; Close
// cancels that fetch and waits for its goroutine.
func TestIntegrationLeakCloseDuringFetch(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select { // hold the fetch until the client gives up or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.JWKS(srv.URL+"/jwks", verify.WithHTTPClient(counter.client()))
	v, err := verify.New(keys, verify.Expect{Issuer: permIssuer, Audience: []string{"orders"}})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, peerUnsignedToken); errc <- err }()
	<-arrived
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled, "the caller leaves when its ctx ends")

	require.NoError(t, keys.Close(), "Close cancels the fetch in progress and waits for it") // a hang here is the bug
}

// Against the real oidc-provider: discovery and keys fetched, then Close.
func TestIntegrationLeakOIDC(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	tok := peerToken(t, issuer)
	http.DefaultClient.CloseIdleConnections() // peerToken's client
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()))
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.NoError(t, keys.Close())
}

// peerUnsignedToken is well formed up to its signature, so verifying it
// needs keys: header {"alg":"RS256","kid":"k1"}, claims {}.
const peerUnsignedToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln"
