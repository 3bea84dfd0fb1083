package base

import (
	"context"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestBeforeExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	valid := func(left time.Duration) *tokenState {
		return &tokenState{tok: &oauth2.Token{AccessToken: "t", Expiry: now.Add(left)}}
	}
	tests := []struct {
		name string
		cur  *tokenState
		wait time.Duration
		want time.Duration // from now
	}{
		{name: "no token", cur: nil, wait: 8 * time.Second, want: 8 * time.Second},
		{name: "retry before expiry kept", cur: valid(10 * time.Second), wait: 4 * time.Second, want: 4 * time.Second},
		{name: "retry after expiry pulled in", cur: valid(10 * time.Second), wait: 16 * time.Second, want: 5 * time.Second},
		{name: "too little left to pull in", cur: valid(1500 * time.Millisecond), wait: 8 * time.Second, want: 8 * time.Second},
		{name: "refused token not kept", cur: valid(10 * time.Second).invalidated(), wait: 16 * time.Second, want: 16 * time.Second},
		{name: "expired token", cur: valid(-time.Second), wait: 16 * time.Second, want: 16 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := beforeExpiry(now, now.Add(tt.wait), tt.cur, time.Second)
			assert.Equal(t, tt.want, got.Sub(now))
		})
	}
}

// While refreshes fail and backoff grows, one token request is still made
// before the current token expires, so a provider that is back by then is
// found before any request fails.
func TestBackoffNeverOutlivesAValidToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{}, WithBackoff(time.Second, time.Hour))
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	f.fail(&authorizer.AuthorizationError{StatusCode: 503})
	expiry := clock.Now().Add(time.Hour)
	tr.mu.Lock()
	tr.failures = 20 // many failures: the next wait is anywhere from 1 s to an hour
	tr.mu.Unlock()
	clock.Advance(56 * time.Minute) // stale, 4 minutes left
	_, err = tr.Token(context.Background())
	require.NoError(t, err, "the valid token is still served")
	require.Eventually(t, func() bool { return !tr.busy.Load() && tr.retryAt.Load() != noRetryAt }, 5*time.Second, time.Millisecond)
	assert.True(t, tr.start.Add(time.Duration(tr.retryAt.Load())).Before(expiry), "next token request scheduled before the token expires")
}
