package base

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const api = "https://api.example.test/v1/things"

// Rule 1: a valid cached token is reused with no further token request.
func TestValidTokenIsReused(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec)
	for range 50 {
		get(t, tr, api)
	}
	assert.Equal(t, 1, f.calls(), "token requests")
	for _, r := range rec.requests {
		assert.Equal(t, "Bearer token-1", r.Header.Get("Authorization"))
	}
}

// Rule 3: concurrent callers with no token share one token request.
func TestConcurrentCallersShareOneFetch(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	gate := f.hold()
	f.started = make(chan struct{}, 100)
	tr := newTestTransport(t, f, clock, &recorder{})
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			tok, err := tr.Token(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
		})
	}
	<-f.started
	close(gate)
	wg.Wait()
	assert.Equal(t, 1, f.calls(), "token requests for 100 callers")
}

// Rule 3: a caller that gives up does not fail the others.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	gate := f.hold()
	f.started = make(chan struct{}, 10)
	tr := newTestTransport(t, f, clock, &recorder{})

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := tr.Token(ctx); first <- err }()
	<-f.started // the first caller started the shared fetch
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { _, err := tr.Token(context.Background()); errs <- err })
	}
	cancel()
	err := <-first
	require.ErrorIs(t, err, context.Canceled)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, f.calls())
}

// Rule 2: in the refresh-ahead window one background refresh runs, and no
// request waits for it.
func TestRefreshAheadDoesNotBlockRequests(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	var events eventLog
	tr := newTestTransport(t, f, clock, rec, WithHook(events.add))
	get(t, tr, api) // token-1, valid for an hour
	clock.Advance(56 * time.Minute)
	gate := f.hold()
	f.started = make(chan struct{}, 10)
	for range 100 {
		get(t, tr, api) // would deadlock if any request waited on the held refresh
	}
	<-f.started
	assert.EqualValues(t, 1, f.refresh.Load(), "background refreshes")
	for _, r := range rec.requests {
		assert.Equal(t, "Bearer token-1", r.Header.Get("Authorization"))
	}
	close(gate)
	require.Eventually(t, func() bool { return tr.cur.Load().tok.AccessToken == "token-2" }, 5*time.Second, time.Millisecond)
	get(t, tr, api)
	assert.Equal(t, "Bearer token-2", rec.requests[len(rec.requests)-1].Header.Get("Authorization"))
	require.Eventually(t, func() bool { return events.has(EventRefreshed, true) }, 5*time.Second, time.Millisecond,
		"a background refreshed event")
}

// Rule 3: a refresh refused as bad credentials falls back to Authorize once.
func TestRefusedRefreshFallsBackToAuthorize(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	f.refreshErr = &authorizer.InvalidCredentialsError{Code: "invalid_grant"}
	clock.Advance(time.Hour)
	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "token-2", tok.AccessToken)
	assert.EqualValues(t, 1, f.refresh.Load())
	assert.EqualValues(t, 2, f.authorize.Load())
}

// Rule 4: while refreshes fail, a token that has not actually expired is
// still sent, even once Expired says it is within the expiration gap.
func TestFailingRefreshKeepsUnexpiredToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	f.fail(&authorizer.AuthorizationError{StatusCode: 503})
	clock.Advance(time.Hour - 10*time.Second) // inside the 30 s gap, not expired
	for range 20 {
		tok, err := tr.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "token-1", tok.AccessToken)
	}
	assert.Equal(t, 2, f.calls(), "one failed refresh, then backoff")
}

// Rule 4: without a valid token, failures are shared and followed by
// backoff; callers fail fast with a typed error wrapping the cause.
func TestBackoffFailsFastWithOneRequestPerStep(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	cause := &authorizer.InvalidClientError{ClientID: "svc"}
	f.fail(cause)
	tr := newTestTransport(t, f, clock, &recorder{}, WithBackoff(time.Second, 30*time.Second))

	_, err := tr.Token(context.Background())
	var ice *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ice)
	for range 100 {
		_, err = tr.Token(context.Background())
		require.ErrorIs(t, err, authorizer.ErrBackoff)
		require.ErrorAs(t, err, &ice, "the cause stays reachable")
		var ae *authorizer.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Positive(t, ae.RetryAfter)
	}
	assert.Equal(t, 1, f.calls(), "no token request during backoff")

	for step := 2; step <= 6; step++ {
		clock.Advance(31 * time.Second) // past any backoff
		for range 20 {
			_, _ = tr.Token(context.Background())
		}
		assert.Equal(t, step, f.calls(), "one token request per backoff step")
	}
	f.fail(nil)
	clock.Advance(31 * time.Second)
	_, err = tr.Token(context.Background())
	require.NoError(t, err, "recovers once the provider does")
}

// Rule 4: a Retry-After from the server sets the backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	f.fail(&authorizer.AuthorizationError{StatusCode: 429, RetryAfter: 7 * time.Second})
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.Error(t, err)
	f.fail(nil)
	clock.Advance(6 * time.Second)
	_, err = tr.Token(context.Background())
	require.ErrorIs(t, err, authorizer.ErrBackoff)
	clock.Advance(1 * time.Second)
	_, err = tr.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, f.calls())
}

// A custom Authorizer's plain error reaches callers typed.
func TestPlainErrorsBecomeTyped(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	plain := errors.New("boom")
	f.fail(plain)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, plain)
}

// Close stops a token request in flight and fails later requests.
func TestCloseCancelsFetchAndRefusesRequests(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	f.hold()
	f.started = make(chan struct{}, 1)
	tr := NewTransport(f, WithBase(&recorder{}), withClock(clock.Now))
	done := make(chan error, 1)
	go func() { _, err := tr.Token(context.Background()); done <- err }()
	<-f.started
	require.NoError(t, tr.Close())
	require.Error(t, <-done)
	_, err := tr.Token(context.Background())
	require.ErrorIs(t, err, authorizer.ErrClosed)
}

// eventLog collects hook events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) has(kind EventKind, background bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Kind == kind && e.Background == background {
			return true
		}
	}
	return false
}

// Rule 2: a request with a usable token never blocks, not even on the
// Transport's own mutex while another goroutine holds it to start or finish
// a token request.
func TestStaleRequestNeverBlocksOnTheMutex(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	clock.Advance(56 * time.Minute) // refresh-ahead window
	tr.mu.Lock()                    // as if a token request were being started
	done := make(chan error, 1)
	go func() { _, err := tr.Token(context.Background()); done <- err }()
	var blocked bool
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		blocked = true
	}
	tr.mu.Unlock() // before failing, so a blocked request can end
	if blocked {
		<-done
		t.Fatal("a request with a usable token waited on the mutex")
	}
	get(t, tr, api) // the next request in the window starts the refresh
	require.Eventually(t, func() bool { return f.refresh.Load() == 1 }, 5*time.Second, time.Millisecond)
}
