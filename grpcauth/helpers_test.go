package grpcauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testIssuer   = "https://issuer.example.test"
	testAudience = "api://things"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func signingKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT returns an RS256 JWT with header h and claims c.
func signJWT(h string, c map[string]any) string {
	body, _ := json.Marshal(c)
	in := b64([]byte(h)) + "." + b64(body)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, signingKey(), crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + b64(sig)
}

func claims(id string, exp time.Time, scopes string) map[string]any {
	return map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "svc", "jti": id,
		"exp": exp.Unix(), "iat": time.Now().Unix() - 1, "scope": scopes}
}

func newVerifier(t testing.TB) *verify.Verifier {
	v, err := verify.New(verify.StaticKeys(&signingKey().PublicKey),
		verify.Expect{Issuer: testIssuer, Audience: []string{testAudience}})
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return v
}

// tokenAuthorizer is an in-process token endpoint: it issues numbered
// JWTs. gate, when set, holds each request until closed; started gets one
// value per request when non-nil. expiresIn and valid shape each token.
type tokenAuthorizer struct {
	calls   atomic.Int32
	started chan struct{}
	scopes  string

	mu        sync.Mutex
	gate      chan struct{}
	valid     time.Duration // Expiry - now; default an hour
	expiresIn int64         // ExpiresIn; default valid's seconds
}

func (a *tokenAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	n := a.calls.Add(1)
	if a.started != nil {
		a.started <- struct{}{}
	}
	a.mu.Lock()
	gate := a.gate
	a.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	valid, in := a.valid, a.expiresIn
	a.mu.Unlock()
	if valid == 0 {
		valid = time.Hour
	}
	if in == 0 {
		in = int64(valid / time.Second)
	}
	exp := time.Now().Add(valid)
	raw := signJWT(`{"alg":"RS256","typ":"JWT"}`, claims(fmt.Sprint("t", n), exp, a.scopes))
	return &oauth2.Token{AccessToken: raw, TokenType: "Bearer", Expiry: exp, ExpiresIn: in}, nil
}

func (a *tokenAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

func (a *tokenAuthorizer) Expired(tok *oauth2.Token) bool {
	return tok == nil || !time.Now().Before(tok.Expiry.Add(-time.Second))
}

func (a *tokenAuthorizer) hold() chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gate = make(chan struct{})
	return a.gate
}

// healthServer records what each call saw: the token's jti from the claims
// and the authorization metadata. revoked jtis are refused.
type healthServer struct {
	healthpb.UnimplementedHealthServer
	mu      sync.Mutex
	seen    []string
	revoked map[string]bool
	// watch: Watch sends one response per value received, then ends.
	watch chan struct{}
}

func (h *healthServer) record(ctx context.Context) error {
	c := verify.ClaimsFrom(ctx)
	if c == nil {
		return status.Error(codes.Internal, "no claims")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.revoked[c.ID] {
		return status.Error(codes.Unauthenticated, "revoked")
	}
	h.seen = append(h.seen, c.ID)
	return nil
}

func (h *healthServer) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if err := h.record(ctx); err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (h *healthServer) Watch(_ *healthpb.HealthCheckRequest, s healthpb.Health_WatchServer) error {
	for range h.watch {
		if err := h.record(s.Context()); err != nil {
			return err
		}
		if err := s.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
			return err
		}
	}
	return nil
}

func (h *healthServer) revoke(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.revoked == nil {
		h.revoked = map[string]bool{}
	}
	h.revoked[id] = true
}

func (h *healthServer) seenIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// startServer serves h on a loopback port with the interceptors, over TLS
// when tlsCfg is set, and stops at the end of the test.
func startServer(t *testing.T, h healthpb.HealthServer, tlsCfg *tls.Config, opts ...ServerOption) string {
	t.Helper()
	v := newVerifier(t)
	sopts := []grpc.ServerOption{
		grpc.UnaryInterceptor(UnaryServerInterceptor(v, opts...)),
		grpc.StreamInterceptor(StreamServerInterceptor(v, opts...)),
	}
	if tlsCfg != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv := grpc.NewServer(sopts...)
	healthpb.RegisterHealthServer(srv, h)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }() // ends with Stop
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String()
}

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and a client config trusting it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "grpcauth test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

// dial connects to addr with creds and both client interceptors.
func dial(t *testing.T, addr string, tc credentials.TransportCredentials, creds *Credentials, extra ...grpc.DialOption) healthpb.HealthClient {
	t.Helper()
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(tc),
		grpc.WithPerRPCCredentials(creds),
		grpc.WithUnaryInterceptor(creds.UnaryClientInterceptor()),
		grpc.WithStreamInterceptor(creds.StreamClientInterceptor())}, extra...)
	conn, err := grpc.NewClient(addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func newCreds(t *testing.T, a *tokenAuthorizer, opts ...Option) *Credentials {
	t.Helper()
	c, err := PerRPC(a, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}
