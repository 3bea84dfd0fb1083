package grpcauth

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// statusCreds is a second per-RPC credential that fails with a status
// error of its own: grpc-go passes an allowed code through as it is
// (internal/transport/http2_client.go getTrAuthData: no "transport:
// per-RPC creds failed" prefix), so the call fails locally with
// Unauthenticated and the words of that credential.
type statusCreds struct{}

func (statusCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return nil, status.Error(codes.Unauthenticated, "other credential: no session")
}
func (statusCreds) RequireTransportSecurity() bool { return false }

func TestReviewOtherPerRPCCredentialStatusError(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	creds := newCreds(t, a, InsecureLoopback())
	c := dial(t, addr, insecure.NewCredentials(), creds)
	bad := dial(t, addr, insecure.NewCredentials(), creds, grpc.WithPerRPCCredentials(statusCreds{}))
	var failed error
	for range 3 {
		err := check(context.Background(), bad)
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
		if err := check(context.Background(), c); err != nil && failed == nil {
			failed = err
		}
	}
	if n := a.calls.Load(); n > 1 || failed != nil {
		t.Fatalf("regression (medium): grpcauth/credentials.go:207 localCredentialsFailure matches only grpc's wrapped wordings; another PerRPCCredentials returning status.Error(codes.Unauthenticated, ...) is passed through by grpc-go unwrapped, so our unsent token is retired as refused (%d token requests) and the next good call on another channel fails with the backoff (%v). Fix: have GetRequestMetadata record that ours ran and treat a call as sent only once the transport wrote headers (e.g. a stats.Handler OutHeader / a grpc.Header/Trailer received, or peer info present), or let the interceptor see whether any response header arrived (grpc.Header call option): no headers and Unauthenticated = local", n, failed)
	}
}
