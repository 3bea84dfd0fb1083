package grpcauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawClient dials addr in plaintext with no credentials: tests put the
// authorization metadata in by hand.
func rawClient(t *testing.T, addr string) healthpb.HealthClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

func withAuth(vals ...string) context.Context {
	ctx := context.Background()
	for _, v := range vals {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return ctx
}

// hostileTokens are rows of verify's hostile table, built here.
func hostileTokens() map[string]string {
	good := func() map[string]any { return claims("h", time.Now().Add(time.Hour), "read") }
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&signingKey().PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := func(secret []byte) string {
		in := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + strings.Split(signJWT(`{"alg":"RS256"}`, good()), ".")[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	rs := func(c map[string]any) string { return signJWT(`{"alg":"RS256","typ":"JWT"}`, c) }
	goodTok := rs(good())
	parts := strings.Split(goodTok, ".")
	return map[string]string{
		"alg none":              b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"HS256 with PEM secret": hs(pubPEM),
		"HS256 with DER secret": hs(pubDER),
		"jku header":            signJWT(`{"alg":"RS256","jku":"https://evil.example/jwks"}`, good()),
		"embedded jwk":          signJWT(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`, good()),
		"exp long past":         rs(with("exp", time.Now().Add(-24*time.Hour).Unix())),
		"no exp":                rs(with("exp", nil)),
		"other iss":             rs(with("iss", "https://evil.example")),
		"other aud":             rs(with("aud", "https://other.example")),
		"nbf in the future":     rs(with("nbf", time.Now().Add(time.Hour).Unix())),
		"signature flipped":     parts[0] + "." + parts[1] + "." + b64([]byte("not a signature")),
		"two segments":          parts[0] + "." + parts[1],
		"many dots":             strings.Repeat(".", 10000),
	}
}

// The interceptors refuse verify's hostile tokens, unary and stream, with
// codes.Unauthenticated and a message that says nothing of why.
func TestServerRefusesHostileTokens(t *testing.T) {
	h := &healthServer{watch: make(chan struct{})}
	close(h.watch)
	c := rawClient(t, startServer(t, h, nil))
	for name, tok := range hostileTokens() {
		t.Run(name, func(t *testing.T) {
			_, err := c.Check(withAuth("Bearer "+tok), &healthpb.HealthCheckRequest{})
			assert.Equal(t, codes.Unauthenticated, status.Code(err))
			assert.Equal(t, "grpcauth: invalid token", status.Convert(err).Message())
			s, err := c.Watch(withAuth("Bearer "+tok), &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			_, err = s.Recv()
			assert.Equal(t, codes.Unauthenticated, status.Code(err))
		})
	}
	assert.Empty(t, h.seenIDs())
}

// Missing, doubled or non-Bearer authorization is Unauthenticated; a
// valid token passes with its claims, and a scheme in any case is read.
func TestServerAuthorizationMetadata(t *testing.T) {
	h := &healthServer{}
	c := rawClient(t, startServer(t, h, nil))
	good := signJWT(`{"alg":"RS256"}`, claims("ok", time.Now().Add(time.Hour), "read"))
	rows := []struct {
		name string
		vals []string
		want codes.Code
	}{
		{"none", nil, codes.Unauthenticated},
		{"empty bearer", []string{"Bearer "}, codes.Unauthenticated},
		{"basic", []string{"Basic dTpw"}, codes.Unauthenticated},
		{"two values", []string{"Bearer " + good, "Bearer " + good}, codes.Unauthenticated},
		{"valid", []string{"Bearer " + good}, codes.OK},
		{"valid, lower-case scheme", []string{"bearer " + good}, codes.OK},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := c.Check(withAuth(r.vals...), &healthpb.HealthCheckRequest{})
			assert.Equal(t, r.want, status.Code(err))
		})
	}
	assert.Equal(t, []string{"ok", "ok"}, h.seenIDs())
}

// Per-method scopes: a valid token without them is PermissionDenied; the
// open option serves health without a token; misconfiguration is Internal.
func TestServerScopesAndOpenServices(t *testing.T) {
	read := signJWT(`{"alg":"RS256"}`, claims("r", time.Now().Add(time.Hour), "read"))
	both := signJWT(`{"alg":"RS256"}`, claims("rw", time.Now().Add(time.Hour), "read write"))
	scopes := WithMethodScopes(map[string][]string{healthpb.Health_Check_FullMethodName: {"read", "write"}})
	c := rawClient(t, startServer(t, &healthServer{}, nil, scopes))
	_, err := c.Check(withAuth("Bearer "+read), &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	assert.Equal(t, "grpcauth: insufficient scope", status.Convert(err).Message())
	_, err = c.Check(withAuth("Bearer "+both), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err)

	open := rawClient(t, startServer(t, &openHealth{}, nil, WithOpenHealthAndReflection()))
	_, err = open.Check(context.Background(), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err, "health open without a token")

	for name, opt := range map[string]ServerOption{
		"nil option":  nil,
		"no slash":    WithMethodScopes(map[string][]string{"pkg.S/M": {"a"}}),
		"empty scope": WithMethodScopes(map[string][]string{"/pkg.S/M": {""}}),
	} {
		t.Run(name, func(t *testing.T) {
			bad := rawClient(t, startServer(t, &healthServer{}, nil, opt))
			_, err := bad.Check(withAuth("Bearer "+both), &healthpb.HealthCheckRequest{})
			assert.Equal(t, codes.Internal, status.Code(err))
		})
	}
	_, err = UnaryServerInterceptor(nil)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/a/b"},
		func(context.Context, any) (any, error) { return nil, nil })
	assert.Equal(t, codes.Internal, status.Code(err))
}

// openHealth answers Check without looking for claims.
type openHealth struct {
	healthpb.UnimplementedHealthServer
}

func (openHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return &healthpb.HealthCheckResponse{}, nil
}
