package grpcauth

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// A method scoped by WithMethodScopes must not be reachable without its
// scope by spelling the method name differently on the wire: grpc's
// server routes "svc/Method" (no leading slash) to the same handler as
// "/svc/Method".
func TestBreakScopeBypassWithoutLeadingSlash(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	h := &healthServer{}
	addr := startServer(t, h, srvTLS,
		WithMethodScopes(map[string][]string{"/grpc.health.v1.Health/Check": {"admin"}}))
	a := &tokenAuthorizer{scopes: "read"}
	creds := newCreds(t, a)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cliTLS)),
		grpc.WithPerRPCCredentials(creds))
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()
	for _, m := range []string{"/grpc.health.v1.Health/Check", "grpc.health.v1.Health/Check"} {
		err := conn.Invoke(ctx, m, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		// grpc v1.85 itself refuses the slashless name (Unimplemented,
		// before any interceptor); either way the handler must not run.
		code := status.Code(err)
		assert.Contains(t, []codes.Code{codes.PermissionDenied, codes.Unimplemented}, code, "method %q: %v", m, err)
	}
	assert.Empty(t, h.seenIDs(), "handler ran without the scope")
}
