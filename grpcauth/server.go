package grpcauth

import (
	"context"
	"slices"
	"strings"

	"github.com/seed-d44eba79/authorizer/verify"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// ServerOption configures [UnaryServerInterceptor] and
// [StreamServerInterceptor].
type ServerOption func(*serverConfig)

type serverConfig struct {
	scopes map[string][]string // full method name → scopes it requires
	open   map[string]bool     // service names served without a token
	bad    bool                // an invalid option: every call fails Internal
}

// WithMethodScopes sets the scopes each method requires, by full method
// name ("/pkg.Service/Method"); a valid token without all of them gets
// codes.PermissionDenied. Methods not in the map need a valid token only.
// The map is copied. A method name without the leading "/", or an empty scope, makes every call fail
// with codes.Internal (a misconfiguration never lets a call through).
func WithMethodScopes(scopes map[string][]string) ServerOption {
	return func(c *serverConfig) {
		for m, s := range scopes {
			if !strings.HasPrefix(m, "/") || slices.Contains(s, "") {
				c.bad = true
			}
			c.scopes[m] = append([]string(nil), s...)
		}
	}
}

// WithOpenHealthAndReflection serves the gRPC health service
// (grpc.health.v1.Health) and server reflection
// (grpc.reflection.v1.ServerReflection, v1alpha) without a token. Off by
// default: every method needs a valid token.
func WithOpenHealthAndReflection() ServerOption {
	return func(c *serverConfig) {
		for _, s := range []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
			"grpc.reflection.v1alpha.ServerReflection"} {
			c.open[s] = true
		}
	}
}

// server checks the token of each call.
type server struct {
	v   *verify.Verifier
	cfg serverConfig
}

func newServer(v *verify.Verifier, opts []ServerOption) *server {
	s := &server{v: v, cfg: serverConfig{scopes: map[string][]string{}, open: map[string]bool{}}}
	for _, o := range opts {
		if o == nil {
			s.cfg.bad = true
			continue
		}
		o(&s.cfg)
	}
	s.cfg.bad = s.cfg.bad || v == nil
	return s
}

// Fixed status messages: never why a token failed.
var (
	errMisconfigured = status.Error(codes.Internal, "grpcauth: server misconfigured")
	errNoToken       = status.Error(codes.Unauthenticated, "grpcauth: missing bearer token")
	errBadToken      = status.Error(codes.Unauthenticated, "grpcauth: invalid token")
	errUnavailable   = status.Error(codes.Unavailable, "grpcauth: cannot check the token now")
	errScope         = status.Error(codes.PermissionDenied, "grpcauth: insufficient scope")
)

// authorize verifies the call's token and returns ctx with its claims.
func (s *server) authorize(ctx context.Context, method string) (context.Context, error) {
	if s.cfg.bad {
		return nil, errMisconfigured
	}
	if s.cfg.open[serviceOf(method)] {
		return ctx, nil
	}
	raw, ok := bearer(metadata.ValueFromIncomingContext(ctx, authorizationKey))
	if !ok {
		return nil, errNoToken
	}
	claims, err := s.v.Verify(ctx, raw)
	if err != nil {
		if Code(err) == codes.Unavailable {
			return nil, errUnavailable
		}
		return nil, errBadToken
	}
	if want := s.cfg.scopes[method]; !claims.HasScope(want...) {
		return nil, errScope
	}
	return verify.WithClaims(ctx, claims), nil
}

// bearer returns the token of exactly one "Bearer <token>" value (the
// scheme in any case).
func bearer(vals []string) (string, bool) {
	if len(vals) != 1 {
		return "", false
	}
	v := vals[0]
	if len(v) <= len("Bearer ") || !strings.EqualFold(v[:len("Bearer ")], "Bearer ") {
		return "", false
	}
	return v[len("Bearer "):], true
}

// serviceOf is the service of a full method name "/svc/Method".
func serviceOf(method string) string {
	method = strings.TrimPrefix(method, "/")
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		return method[:i]
	}
	return method
}

// UnaryServerInterceptor returns an interceptor that lets a unary call
// through only with a valid Bearer token in its "authorization" metadata
// (codes.Unauthenticated otherwise) holding the method's scopes
// ([WithMethodScopes]; codes.PermissionDenied otherwise). The handler
// finds the claims with [verify.ClaimsFrom]. A nil v or an invalid option
// fails every call with codes.Internal. Safe for concurrent use.
func UnaryServerInterceptor(v *verify.Verifier, opts ...ServerOption) grpc.UnaryServerInterceptor {
	s := newServer(v, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := s.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is [UnaryServerInterceptor] for streams: the
// token is checked once, when the stream opens.
func StreamServerInterceptor(v *verify.Verifier, opts ...ServerOption) grpc.StreamServerInterceptor {
	s := newServer(v, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := s.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &claimsStream{ServerStream: ss, ctx: ctx})
	}
}

// claimsStream is a ServerStream whose Context carries the claims.
type claimsStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *claimsStream) Context() context.Context { return s.ctx }
