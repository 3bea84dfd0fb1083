// Command grpc shows this SDK's token lifecycle on gRPC with nothing to
// set up: an OAuth 2.0 authorization server (client credentials, RS256 JWT
// access tokens, discovery and JWKS) and a gRPC health service protected
// by grpcauth's server interceptors run in this process on 127.0.0.1; a
// client calls it with grpcauth.PerRPC credentials for a service account.
// It shows many calls sharing one token, the claims reaching the handler,
// a missing scope answered PermissionDenied, and a missing or forged
// token answered Unauthenticated. Tokens are never printed.
//
//	go run ./examples/grpc   (from the grpcauth module)
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/grpcauth"
	"github.com/seed-d44eba79/authorizer/internal/demoidp"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/verify"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// apiAudience is the service's identifier, the aud of its tokens.
const apiAudience = "urn:orders-api"

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	idp, err := demoidp.New(apiAudience, 10*time.Minute)
	if err != nil {
		return err
	}
	defer idp.Close()
	keys := verify.Discover(idp.URL)
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: idp.URL, Audience: []string{apiAudience}})
	if err != nil {
		return err
	}
	addr, stop, err := serve(v)
	if err != nil {
		return err
	}
	defer stop()

	info := data.ClientInfo{ClientID: "orders-reporter", ClientSecret: "demo-secret"}
	env := oauth2auth.Environment{Name: "grpc-demo", TokenURL: idp.URL + "/token", Scopes: []string{"orders:read"}}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env)
	if err != nil {
		return err
	}
	// Plaintext to 127.0.0.1 for the demo; real services use TLS and drop
	// InsecureLoopback.
	creds, err := grpcauth.PerRPC(authz, grpcauth.InsecureLoopback(), grpcauth.WithUnaryRetry())
	if err != nil {
		return err
	}
	defer creds.Close()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(creds),
		grpc.WithUnaryInterceptor(creds.UnaryClientInterceptor()),
		grpc.WithStreamInterceptor(creds.StreamClientInterceptor()))
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := steps(ctx, out, healthpb.NewHealthClient(conn), addr); err != nil {
		return err
	}
	fmt.Fprintf(out, "token requests: %d, key fetches: %d\n", idp.Tokens.Load(), idp.KeyReads.Load())
	return nil
}

// serve starts the protected health service: Check needs a valid token,
// Watch the orders:write scope too.
func serve(v *verify.Verifier) (addr string, stop func(), err error) {
	scopes := grpcauth.WithMethodScopes(map[string][]string{
		healthpb.Health_Watch_FullMethodName: {"orders:write"}})
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(grpcauth.UnaryServerInterceptor(v, scopes)),
		grpc.StreamInterceptor(grpcauth.StreamServerInterceptor(v, scopes)))
	healthpb.RegisterHealthServer(srv, health{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }() // ends with Stop
	return lis.Addr().String(), func() { srv.Stop(); <-done }, nil
}

// health answers Check with the caller's identity from its claims.
type health struct {
	healthpb.UnimplementedHealthServer
}

func (health) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	c := verify.ClaimsFrom(ctx)
	_ = grpc.SetHeader(ctx, metadata.Pairs("caller", c.ClientID))
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func steps(ctx context.Context, out io.Writer, c healthpb.HealthClient, addr string) error {
	var header metadata.MD
	if _, err := c.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&header)); err != nil {
		return err
	}
	fmt.Fprintf(out, "1. Check: SERVING, caller %v\n", header.Get("caller"))

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		}
	}
	fmt.Fprintf(out, "2. 50 concurrent Checks: %d served\n", ok)

	s, err := c.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	fmt.Fprintf(out, "3. Watch without orders:write: %s\n", status.Code(err))

	return badCalls(ctx, out, addr)
}

// badCalls calls without the SDK: no token, then a forged one.
func badCalls(ctx context.Context, out io.Writer, addr string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := healthpb.NewHealthClient(conn)
	_, err = c.Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Fprintf(out, "4. no token: %s (%s)\n", status.Code(err), status.Convert(err).Message())
	forged := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")
	_, err = c.Check(forged, &healthpb.HealthCheckRequest{})
	fmt.Fprintf(out, "5. forged token: %s (%s)\n", status.Code(err), status.Convert(err).Message())
	return nil
}
