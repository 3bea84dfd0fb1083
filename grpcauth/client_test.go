package grpcauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func check(ctx context.Context, c healthpb.HealthClient) error {
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// 100 concurrent unary calls over TLS share one token request.
func TestConcurrentCallsShareOneToken(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	h := &healthServer{}
	addr := startServer(t, h, srvTLS)
	a := &tokenAuthorizer{started: make(chan struct{}, 200)}
	gate := a.hold()
	creds := newCreds(t, a)
	assert.True(t, creds.RequireTransportSecurity())
	c := dial(t, addr, credentials.NewTLS(cliTLS), creds)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { assert.NoError(t, check(context.Background(), c)) })
	}
	<-a.started
	close(gate)
	wg.Wait()
	assert.EqualValues(t, 1, a.calls.Load(), "token requests for 100 calls")
	ids := h.seenIDs()
	require.Len(t, ids, 100)
	for _, id := range ids {
		assert.Equal(t, "t1", id)
	}
}

// Calls go on with the current token while its refresh is held.
func TestCallsGoOnDuringBackgroundRefresh(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	h := &healthServer{}
	addr := startServer(t, h, srvTLS)
	// An hour's lifetime expiring in 20 minutes: stale at once, not expired.
	a := &tokenAuthorizer{valid: 20 * time.Minute, expiresIn: 3600, started: make(chan struct{}, 10)}
	refreshed := make(chan struct{}, 1)
	hook := base.WithHook(func(e base.Event) {
		if e.Kind == base.EventRefreshed && e.Err == nil {
			refreshed <- struct{}{}
		}
	})
	creds := newCreds(t, a, WithTransportOptions(base.WithRefreshAhead(30*time.Minute), hook))
	c := dial(t, addr, credentials.NewTLS(cliTLS), creds)
	require.NoError(t, check(context.Background(), c)) // token 1
	<-a.started
	gate := a.hold()
	require.NoError(t, check(context.Background(), c)) // starts the refresh
	<-a.started
	for range 20 { // the refresh is held: these must not wait for it
		require.NoError(t, check(context.Background(), c))
	}
	a.mu.Lock()
	a.valid, a.expiresIn = time.Hour, 0 // token 2 is fresh
	a.mu.Unlock()
	close(gate)
	assert.Equal(t, "t1", h.seenIDs()[21], "calls during the refresh used the current token")
	<-refreshed // published before the event: the next call sends it
	require.NoError(t, check(context.Background(), c))
	ids := h.seenIDs()
	assert.Equal(t, "t2", ids[len(ids)-1], "the refreshed token is used once delivered")
	assert.EqualValues(t, 2, a.calls.Load())
}

// A server that revokes the token: many Unauthenticated answers cause one
// new token, and with WithUnaryRetry each call succeeds on its one retry.
func TestRevokedTokenOneRefresh(t *testing.T) {
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprint("retry=", retry), func(t *testing.T) {
			srvTLS, cliTLS := testTLS(t)
			h := &healthServer{}
			addr := startServer(t, h, srvTLS)
			a := &tokenAuthorizer{}
			var opts []Option
			if retry {
				opts = append(opts, WithUnaryRetry())
			}
			c := dial(t, addr, credentials.NewTLS(cliTLS), newCreds(t, a, opts...))
			require.NoError(t, check(context.Background(), c))
			h.revoke("t1")
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					err := check(context.Background(), c)
					if retry {
						assert.NoError(t, err)
					} else if err != nil {
						assert.Equal(t, codes.Unauthenticated, status.Code(err))
					}
				})
			}
			wg.Wait()
			require.NoError(t, check(context.Background(), c))
			assert.EqualValues(t, 2, a.calls.Load(), "token requests: one new token for 50 refusals")
			ids := h.seenIDs()
			assert.Equal(t, "t2", ids[len(ids)-1])
		})
	}
}

// A unary call is retried once only: a server refusing every token costs
// two sends per call, never more.
func TestUnaryRetriedOnceOnly(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	c := dial(t, addr, insecure.NewCredentials(), newCreds(t, a, WithUnaryRetry(), InsecureLoopback()))
	require.NoError(t, check(context.Background(), c))
	for i := 1; i <= 3; i++ {
		h.revoke(fmt.Sprint("t", i))
	}
	err := check(context.Background(), c)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.EqualValues(t, 2, a.calls.Load(), "one retry with one new token")
}

// A stream keeps the token it opened with, though the token changes.
func TestStreamKeepsItsMetadata(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	h := &healthServer{watch: make(chan struct{})}
	addr := startServer(t, h, srvTLS)
	a := &tokenAuthorizer{}
	creds := newCreds(t, a)
	c := dial(t, addr, credentials.NewTLS(cliTLS), creds)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	h.watch <- struct{}{}
	_, err = s.Recv()
	require.NoError(t, err)
	// Retire token 1: later unary calls use token 2, the stream goes on.
	cred, err := creds.t.Credential(ctx)
	require.NoError(t, err)
	cred.Refused()
	require.NoError(t, check(ctx, c))
	for range 3 {
		h.watch <- struct{}{}
		_, err = s.Recv()
		require.NoError(t, err)
	}
	close(h.watch)
	assert.Equal(t, []string{"t1", "t2", "t1", "t1", "t1"}, h.seenIDs())
}

// Without an Insecure… option grpc refuses to dial in plaintext; with
// InsecureLoopback a non-loopback authority gets no token.
func TestTransportSecurity(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	_, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(newCreds(t, a)))
	require.Error(t, err, "plaintext dial with credentials requiring security")

	creds := newCreds(t, a, InsecureLoopback())
	assert.False(t, creds.RequireTransportSecurity())
	require.NoError(t, check(context.Background(), dial(t, addr, insecure.NewCredentials(), creds)))

	farAuth := &tokenAuthorizer{}
	far := dial(t, addr, insecure.NewCredentials(), newCreds(t, farAuth, InsecureLoopback(), WithUnaryRetry()),
		grpc.WithAuthority("api.example.com"))
	for range 3 {
		err = check(context.Background(), far)
		assert.Equal(t, codes.Unauthenticated, status.Code(err))
		assert.Contains(t, status.Convert(err).Message(), authorizer.ErrInsecureTransport.Error())
	}
	assert.Len(t, h.seenIDs(), 1, "the non-loopback calls never reached the handler")
	assert.EqualValues(t, 1, farAuth.calls.Load(), "a token refused locally is not retired")

	plain := dial(t, addr, insecure.NewCredentials(), newCreds(t, &tokenAuthorizer{}, InsecureAllowPlaintext()),
		grpc.WithAuthority("api.example.com"))
	require.NoError(t, check(context.Background(), plain))
}

// The call's ctx bounds the wait for a token: a cancelled call fails with
// codes.Canceled while the token request is held.
func TestCallContextHonoured(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{started: make(chan struct{}, 1)}
	gate := a.hold()
	defer close(gate)
	c := dial(t, addr, insecure.NewCredentials(), newCreds(t, a, InsecureLoopback()))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-a.started; cancel() }() // ends once the token request starts
	err := check(ctx, c)
	assert.Equal(t, codes.Canceled, status.Code(err))
}

// Closed credentials fail calls with codes.Canceled; FromTransport shares
// the Transport's token and refuses WithTransportOptions.
func TestCloseAndFromTransport(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	tr, err := base.New(a)
	require.NoError(t, err)
	defer tr.Close()
	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	creds, err := FromTransport(tr, InsecureLoopback())
	require.NoError(t, err)
	require.NoError(t, check(context.Background(), dial(t, addr, insecure.NewCredentials(), creds)))
	assert.EqualValues(t, 1, a.calls.Load(), "HTTP and gRPC share one token")
	md, err := creds.GetRequestMetadata(context.Background(), "http://localhost/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+tok.AccessToken, md["authorization"])
	require.NoError(t, creds.Close())
	_, err = tr.Token(context.Background())
	require.NoError(t, err, "Close of FromTransport credentials leaves the Transport open")

	_, err = FromTransport(tr, WithTransportOptions(base.WithAPIKey("k")))
	var ice *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, "grpcauth.WithTransportOptions", ice.Setting)
	_, err = FromTransport(nil)
	require.ErrorAs(t, err, &ice)
	_, err = PerRPC(a, nil)
	require.ErrorAs(t, err, &ice)
	_, err = PerRPC(nil)
	require.ErrorAs(t, err, &ice)

	owned := newCreds(t, a, InsecureLoopback(), WithTransportOptions(base.WithAPIKey("key-1")))
	md, err = owned.GetRequestMetadata(context.Background(), "http://127.0.0.1/x")
	require.NoError(t, err)
	assert.Equal(t, "key-1", md["x-api-key"])
	require.NoError(t, owned.Close())
	_, err = owned.GetRequestMetadata(context.Background(), "http://127.0.0.1/x")
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.True(t, errors.Is(authorizer.ErrClosed, authorizer.ErrClosed))
}

// GetRequestMetadata uses the token its own interceptor chose, never the
// choice of another Credentials' interceptor.
func TestChosenCredentialIsPerOwner(t *testing.T) {
	a, b := newCreds(t, &tokenAuthorizer{scopes: "a"}), newCreds(t, &tokenAuthorizer{scopes: "b"})
	ctx := benchCtx()
	ca, err := a.t.Credential(ctx)
	require.NoError(t, err)
	mdB, err := b.GetRequestMetadata(first(a.withChosen(ctx, ca)), "https://x/y")
	require.NoError(t, err)
	assert.NotEqual(t, ca.Authorization(), mdB["authorization"])
	mdA, err := a.GetRequestMetadata(first(a.withChosen(ctx, ca)), "https://x/y")
	require.NoError(t, err)
	assert.Equal(t, ca.Authorization(), mdA["authorization"])
}

func first(ctx context.Context, _ *chosen) context.Context { return ctx }

// A stream refused with Unauthenticated retires its token but is never
// replayed, even with WithUnaryRetry.
func TestStreamNotReplayed(t *testing.T) {
	h := &healthServer{watch: make(chan struct{}, 2)}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	c := dial(t, addr, insecure.NewCredentials(), newCreds(t, a, InsecureLoopback(), WithUnaryRetry()))
	require.NoError(t, check(context.Background(), c))
	h.revoke("t1")
	h.watch <- struct{}{}
	h.watch <- struct{}{}
	s, err := c.Watch(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = s.Recv()
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Len(t, h.watch, 1, "the handler ran once: the stream was not opened again")
	close(h.watch)
	require.NoError(t, check(context.Background(), c))
	assert.Equal(t, []string{"t1", "t2"}, h.seenIDs())
	assert.EqualValues(t, 2, a.calls.Load())
}
