package verify_test

// Key-source behaviour against the real oidc-provider: a flood of tokens
// naming random kids costs at most one extra fetch of its JWKS, and held
// keys keep working while the provider is down.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peerRandomKidToken is tok with its header replaced by one naming a
// random kid (so its signature cannot verify under any key).
func peerRandomKidToken(tok string) string {
	h := `{"alg":"RS256","typ":"at+jwt","kid":"` + rand.Text() + `"}`
	return base64.RawURLEncoding.EncodeToString([]byte(h)) + tok[strings.IndexByte(tok, '.'):]
}

// 200 tokens with random kids from 20 goroutines: at most one refresh of
// the JWKS beyond the first fetch, every token refused as naming an
// unknown key, and the genuine token still accepted.
func TestIntegrationOIDCKidFlood(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}})
	require.NoError(t, err)
	tok := peerToken(t, issuer)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 20 {
		wg.Go(func() {
			for range 10 {
				_, err := v.Verify(context.Background(), peerRandomKidToken(tok))
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, authorizer.ErrTokenUnknownKey)
	}
	assert.LessOrEqual(t, counter.count("/jwks"), 2, "a flood of random kids fetched the keys more than once")
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err)
}

// The provider stops: a token of the held key still verifies, a token
// naming an unknown kid is refused as an unknown key, with the fetch
// failure as a temporary cause, once a refresh is allowed.
func TestIntegrationOIDCProviderDown(t *testing.T) {
	peertest.Env(t, "AUTHORIZER_OIDC_ISSUER") // the peer is installed
	p := startPeerProvider(t)
	issuer := p.issuer()
	clock := newPeerClock()
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()), verify.WithClock(clock.Now))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}},
		verify.WithClock(clock.Now), verify.WithCacheSize(0))
	require.NoError(t, err)
	tok := peerToken(t, issuer)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	p.stop()
	counter.CloseIdleConnections()
	clock.Advance(verify.DefaultMinRefreshInterval + 1)
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err, "held keys stop working when the provider is down")
	_, err = v.Verify(context.Background(), peerRandomKidToken(tok))
	require.ErrorIs(t, err, authorizer.ErrTokenUnknownKey)
	var ite *authorizer.InvalidTokenError
	require.True(t, errors.As(err, &ite))
	assert.True(t, ite.Temporary(), "the failed refresh makes the refusal temporary: %v", err)
	assert.Equal(t, 2, counter.count("/jwks"), "one failed refresh")
}
