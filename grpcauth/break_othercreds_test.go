package grpcauth

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// failingCreds is a second per-RPC credential that cannot produce its
// metadata: grpc fails the call with Unauthenticated before sending it.
type failingCreds struct{}

func (failingCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return nil, errors.New("other credential down")
}
func (failingCreds) RequireTransportSecurity() bool { return false }

// Another per-RPC credential that fails after ours attached the token
// makes grpc answer Unauthenticated locally: the server never saw the
// token, so it must not be retired (each retirement is a token request,
// and one refused before acceptance counts toward the backoff).
func TestBreakOtherPerRPCCredentialFailing(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	a := &tokenAuthorizer{}
	creds := newCreds(t, a, InsecureLoopback(), WithUnaryRetry())
	c := dial(t, addr, insecure.NewCredentials(), creds)
	bad := dial(t, addr, insecure.NewCredentials(), creds, grpc.WithPerRPCCredentials(failingCreds{}))
	for range 5 {
		err := check(context.Background(), bad)
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
		err = check(context.Background(), c) // ours alone
		if err != nil {
			t.Fatalf("after a local Unauthenticated from another failing PerRPCCredentials, our unsent token was retired and the next call fails: %v", err)
		}
	}
	if a.calls.Load() > 1 {
		t.Fatalf("a local Unauthenticated from another failing PerRPCCredentials retired our unsent token: %d token requests for 5 good calls", a.calls.Load())
	}
}
