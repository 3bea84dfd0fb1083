package grpcauth

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// checkSecurity with InsecureLoopback: only "localhost" and loopback IPs
// pass; lookalikes fail closed. No connection: the uri and an insecure
// AuthInfo are what grpc hands GetRequestMetadata.
func TestBreakLoopbackAuthorityLookalikes(t *testing.T) {
	a := &tokenAuthorizer{}
	creds := newCreds(t, a, InsecureLoopback())
	ri := credentials.RequestInfo{AuthInfo: insecureAuthInfo()}
	ctx := credentials.NewContextWithRequestInfo(context.Background(), ri)
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}})
	for host, ok := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.9.9.9": true, "[::1]": true,
		"[::ffff:127.0.0.1]": true,
		"localhost.":         false, "localhost.evil.test": false, "127.0.0.1.nip.io": false, "127.1": false,
		"0x7f000001": false, "2130706433": false, "[::]": false, "0.0.0.0": false, "evil.test": false,
		"127.0.0.1@evil.test": false, "evil.test#127.0.0.1": false, "": false,
	} {
		_, err := creds.GetRequestMetadata(ctx, "https://"+host+":1/grpc.health.v1.Health")
		if ok {
			assert.NoError(t, err, host)
		} else {
			assert.Equal(t, codes.Unauthenticated, status.Code(err), host)
		}
	}
	_, err := creds.GetRequestMetadata(ctx) // no uri at all
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	// A loopback authority over a connection to another machine, or with
	// no peer known, fails closed.
	remote := peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}})
	_, err = creds.GetRequestMetadata(remote, "https://localhost:1/x")
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	unix := peer.NewContext(ctx, &peer.Peer{Addr: &net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"}})
	_, err = creds.GetRequestMetadata(unix, "https://localhost:1/x")
	assert.NoError(t, err, "a Unix socket is local")
	v6 := peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 1}})
	_, err = creds.GetRequestMetadata(v6, "https://[::1]:1/x")
	assert.NoError(t, err)
}

func insecureAuthInfo() credentials.AuthInfo {
	_, ai, _ := insecure.NewCredentials().ClientHandshake(context.Background(), "", nil)
	return ai
}

// The authority is the caller's (grpc.WithAuthority, a resolver's
// ServerName, grpc.CallAuthority): naming "localhost" while the
// connection goes to another machine must not send the token in
// plaintext. The peer address of the connection decides.
func TestBreakLoopbackAuthorityOverrideToRemotePeer(t *testing.T) {
	ip := nonLoopbackIP(t)
	h := &healthServer{}
	addr := startServerOn(t, h, net.JoinHostPort(ip, "0"))
	a := &tokenAuthorizer{}
	creds := newCreds(t, a, InsecureLoopback())
	c := dial(t, addr, insecure.NewCredentials(), creds, grpc.WithAuthority("localhost"))
	err := check(context.Background(), c)
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	assert.Empty(t, h.seenIDs(), "token sent in plaintext to %s", addr)
}

// A loopback peer with a loopback authority still works.
func TestBreakLoopbackPeerWorks(t *testing.T) {
	h := &healthServer{}
	addr := startServer(t, h, nil)
	creds := newCreds(t, &tokenAuthorizer{}, InsecureLoopback())
	c := dial(t, addr, insecure.NewCredentials(), creds)
	require.NoError(t, check(context.Background(), c))
}

func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return ""
}

// startServerOn is startServer listening on hostport, without TLS.
func startServerOn(t *testing.T, h healthpb.HealthServer, hostport string) string {
	t.Helper()
	v := newVerifier(t)
	srv := grpc.NewServer(grpc.UnaryInterceptor(UnaryServerInterceptor(v)),
		grpc.StreamInterceptor(StreamServerInterceptor(v)))
	healthpb.RegisterHealthServer(srv, h)
	lis, err := net.Listen("tcp", hostport)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String()
}
