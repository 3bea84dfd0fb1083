package base

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credential carries the token and API key RoundTrip would send; Refused
// retires it once for many reports, and the next Credential is a new token.
func TestCredentialRefusedOnce(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{}, WithAPIKey("key-1"))
	c, err := tr.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer token-1", c.Authorization())
	assert.Equal(t, "key-1", c.APIKey())
	c.Accepted()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(c.Refused)
	}
	wg.Wait()
	c2, err := tr.Credential(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer token-2", c2.Authorization())
	assert.False(t, c.Same(c2))
	assert.True(t, c2.Same(c2))
	assert.Equal(t, 2, f.calls(), "token requests: one refresh for 50 refusals")
	var zero Credential
	assert.Equal(t, "", zero.Authorization())
	assert.Equal(t, "", zero.APIKey())
	zero.Refused()
	zero.Accepted()
}

// The hot path of Credential does not allocate.
func TestCredentialNoAlloc(t *testing.T) {
	clock := newClock()
	tr := newTestTransport(t, newFake(clock), clock, &recorder{})
	ctx := context.Background()
	_, err := tr.Credential(ctx)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() { _, _ = tr.Credential(ctx) })
	assert.Zero(t, allocs)
}
