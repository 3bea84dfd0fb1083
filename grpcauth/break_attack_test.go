package grpcauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawClient dials addr with no per-RPC credentials: the test writes the
// metadata itself.
func rawConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<20)))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func goodToken() string {
	return signJWT(`{"alg":"RS256","typ":"JWT"}`, claims("good", time.Now().Add(time.Hour), "read"))
}

// Hostile authorization metadata gets the documented code and fixed
// message, and the handler never runs.
func TestBreakHostileAuthorizationMetadata(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	conn := rawConn(t, addr)
	tok := goodToken()
	missing, invalid := "grpcauth: missing bearer token", "grpcauth: invalid token"
	for name, tc := range map[string]struct {
		kv   []string
		code codes.Code
		msg  string
	}{
		"none":              {nil, codes.Unauthenticated, missing},
		"two values":        {[]string{"authorization", "Bearer " + tok, "authorization", "Bearer " + tok}, codes.Unauthenticated, missing},
		"good then bad":     {[]string{"authorization", "Bearer " + tok, "authorization", "Bearer x"}, codes.Unauthenticated, missing},
		"basic":             {[]string{"authorization", "Basic dXNlcjpwdw=="}, codes.Unauthenticated, missing},
		"bearer only":       {[]string{"authorization", "Bearer "}, codes.Unauthenticated, missing},
		"tab":               {[]string{"authorization", "Bearer\t" + tok}, codes.Unauthenticated, missing},
		"raw token":         {[]string{"authorization", tok}, codes.Unauthenticated, missing},
		"double space":      {[]string{"authorization", "Bearer  " + tok}, codes.Unauthenticated, invalid},
		"trailing space":    {[]string{"authorization", "Bearer " + tok + " "}, codes.Unauthenticated, invalid},
		"huge":              {[]string{"authorization", "Bearer " + strings.Repeat("A", 200<<10)}, codes.Unauthenticated, invalid},
		"huge dotted":       {[]string{"authorization", "Bearer " + strings.Repeat("eyJ.", 50<<10)}, codes.Unauthenticated, invalid},
		"bin key":           {[]string{"authorization-bin", "Bearer " + tok}, codes.Unauthenticated, missing},
		"forged alg none":   {[]string{"authorization", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, codes.Unauthenticated, invalid},
		"x-api-key only":    {[]string{"x-api-key", tok}, codes.Unauthenticated, missing},
		"upper key":         {[]string{"AUTHORIZATION", "Bearer " + tok, "authorization", "Bearer " + tok}, codes.Unauthenticated, missing},
		"lowercase scheme":  {[]string{"authorization", "bearer " + tok}, codes.OK, ""},
		"shouting scheme":   {[]string{"authorization", "BEARER " + tok}, codes.OK, ""},
		"plus api key junk": {[]string{"authorization", "Bearer " + tok, "x-api-key", "k\x01"}, codes.OK, ""},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), tc.kv...)
			err := conn.Invoke(ctx, "/grpc.health.v1.Health/Check", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
			st := status.Convert(err)
			if st.Code() == codes.Internal && strings.Contains(st.Message(), "header") {
				return // grpc refused to send the header itself: nothing reached the server
			}
			assert.Equal(t, tc.code, st.Code(), "%v", err)
			if tc.code != codes.OK {
				assert.Equal(t, tc.msg, st.Message())
			}
		})
	}
}

// The open health option opens the health service only: lookalike
// service names, reflection-like names and unknown methods need a token.
func TestBreakOpenHealthLookalikes(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil, WithOpenHealthAndReflection())
	conn := rawConn(t, addr)
	for _, m := range []string{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Nope"} {
		err := conn.Invoke(context.Background(), m, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		// Check is open (the handler runs and finds no claims: Internal
		// from the test server); an unknown method of the open service is
		// Unimplemented, answered by grpc before any interceptor.
		assert.NotEqual(t, codes.Unauthenticated, status.Code(err), "%s: %v", m, err)
	}
	for _, m := range []string{"/grpc.health.v1.HealthX/Check", "/grpc.health.v1/Check", "/grpc.health.v1.Health.x/Check",
		"/Grpc.Health.V1.Health/Check", "/grpc.health.v1.Health/Check/x", "/x/grpc.health.v1.Health/Check"} {
		err := conn.Invoke(context.Background(), m, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		code := status.Code(err)
		assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.Unimplemented}, code, "%s: %v", m, err)
	}
	assert.Empty(t, h.seenIDs())
}

// unauthServer answers Unauthenticated to everything, counting calls.
type unauthServer struct {
	healthpb.UnimplementedHealthServer
	mu    sync.Mutex
	calls int
}

func (s *unauthServer) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return nil, status.Error(codes.Unauthenticated, "no")
}

// A server that refuses every token forever: each unary call is sent at
// most twice, and the refusals back off the token requests instead of
// one token request per call.
func TestBreakUnauthenticatedStorm(t *testing.T) {
	s := &unauthServer{}
	addr := startServer(t, s, nil)
	a := &tokenAuthorizer{}
	creds := newCreds(t, a, InsecureLoopback(), WithUnaryRetry(),
		WithTransportOptions(base.WithBackoff(time.Hour, time.Hour)))
	c := dial(t, addr, insecure.NewCredentials(), creds)
	const n = 50
	codesSeen := map[codes.Code]int{}
	var last error
	for range n {
		last = check(context.Background(), c)
		codesSeen[status.Code(last)]++
	}
	t.Logf("last error: %v", last)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.LessOrEqual(t, s.calls, 2*n)
	assert.LessOrEqual(t, int(a.calls.Load()), 3, "token requests while every token is refused (backoff an hour)")
	for code := range codesSeen {
		assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.Unavailable}, code)
	}
	t.Logf("codes %v, server calls %d, token requests %d", codesSeen, s.calls, a.calls.Load())
}

// Careless callers: calls after Close are Canceled, Close twice is fine,
// interceptors of one Credentials with another's PerRPC credentials never
// retire a token they did not send, credentials without interceptors
// still send the token.
func TestBreakCarelessCallers(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	creds, err := PerRPC(a, InsecureLoopback())
	require.NoError(t, err)
	c := dial(t, addr, insecure.NewCredentials(), creds)
	require.NoError(t, check(context.Background(), c))
	require.NoError(t, creds.Close())
	require.NoError(t, creds.Close())
	err = check(context.Background(), c)
	assert.Equal(t, codes.Canceled, status.Code(err), "%v", err)
	_, err = creds.GetRequestMetadata(context.Background(), "https://localhost/x")
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.NotContains(t, err.Error(), "Bearer")

	// Credentials without interceptors.
	b := &tokenAuthorizer{}
	bare := newCreds(t, b, InsecureLoopback())
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bare))
	require.NoError(t, err)
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)

	// Interceptors of x with the per-RPC credentials of y.
	s := &unauthServer{}
	saddr := startServer(t, s, nil)
	xa, ya := &tokenAuthorizer{}, &tokenAuthorizer{}
	x, y := newCreds(t, xa, InsecureLoopback(), WithUnaryRetry()), newCreds(t, ya, InsecureLoopback(), WithUnaryRetry())
	mixed, err := grpc.NewClient(saddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(y), grpc.WithUnaryInterceptor(x.UnaryClientInterceptor()))
	require.NoError(t, err)
	defer mixed.Close()
	for range 5 {
		_, err = healthpb.NewHealthClient(mixed).Check(context.Background(), &healthpb.HealthCheckRequest{})
		assert.Equal(t, codes.Unauthenticated, status.Code(err))
	}
	assert.EqualValues(t, 1, xa.calls.Load(), "x never sent its token: refusals do not retire it")
	s.mu.Lock()
	assert.Equal(t, 5, s.calls, "no retry for a token x did not send")
	s.mu.Unlock()

	// nil Authorizer.
	_, err = PerRPC(nil)
	var ice *authorizer.InvalidConfigError
	assert.True(t, errors.As(err, &ice))
}

// The shared metadata map: grpc does not modify it across many calls.
func TestBreakSharedMetadataUntouched(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	creds := newCreds(t, &tokenAuthorizer{}, InsecureLoopback(), WithTransportOptions(base.WithAPIKey("key-1")))
	c := dial(t, addr, insecure.NewCredentials(), creds)
	md, err := creds.GetRequestMetadata(context.Background(), "https://localhost/x")
	require.NoError(t, err)
	want := map[string]string{"authorization": md["authorization"], "x-api-key": "key-1"}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { assert.NoError(t, check(context.Background(), c)) })
	}
	wg.Wait()
	assert.Equal(t, want, md)
	md2, _ := creds.GetRequestMetadata(context.Background(), "https://localhost/x")
	assert.Equal(t, want, md2)
}
