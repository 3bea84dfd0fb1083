package base

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Review of keepRotatedRefreshToken (1809165): the rotated refresh token
// of a token refused at adoption is kept in memory; with a TokenCache the
// cache still holds the exchanged one, which a sharer (or this process
// after a restart) then refreshes with.
func TestReviewRotatedRefreshTokenReachesCache(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	n := 0
	f.set(func(f *fakeAuthorizer) {
		f.shape = func(tok *oauth2.Token) {
			n++
			tok.RefreshToken = fmt.Sprintf("rt-%d", n)
			if n == 2 { // expired at birth
				tok.Expiry = clock.Now().Add(-time.Minute)
			}
		}
	})
	cache := NewMemoryCache()
	tr := newTestTransport(t, f, clock, &recorder{}, WithCache(cache, "k"))
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	clock.Advance(61 * time.Minute) // expired: Token refreshes at once
	_, _ = tr.Token(context.Background())
	require.Equal(t, 2, f.calls(), "the refresh was made")
	cached, err := cache.Load(context.Background(), "k")
	require.NoError(t, err)
	mem := tr.cur.Load()
	if mem != nil && mem.tok.RefreshToken == "rt-2" && (cached == nil || cached.RefreshToken != "rt-2") {
		rt := "none"
		if cached != nil {
			rt = cached.RefreshToken
		}
		t.Fatal("regression (low): base/flight.go:132 keepRotatedRefreshToken keeps the rotated refresh token (rt-2) only in the Transport's memory; the shared TokenCache still holds " + rt +
			", which the provider exchanged: a sharer or a restarted process refreshes with it and a rotating provider revokes the grant. Fix: in obtain, when fetch kept a rotated refresh token, store cur's token with it (toCache, under the lock) for Bearer tokens")
	}
}
