// Package grpcauth provides this SDK's token lifecycle for gRPC: per-RPC
// credentials (Bearer tokens, RFC 6750, in the "authorization" metadata)
// served by a [base.Transport], a client interceptor that retires a token
// a server answers codes.Unauthenticated to, and server interceptors that
// check tokens with a [verify.Verifier].
//
// # Client
//
//	creds, err := grpcauth.PerRPC(authz)
//	if err != nil { ... }
//	defer creds.Close()
//	conn, err := grpc.NewClient(target,
//		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
//		grpc.WithPerRPCCredentials(creds),
//		grpc.WithUnaryInterceptor(creds.UnaryClientInterceptor()),
//		grpc.WithStreamInterceptor(creds.StreamClientInterceptor()))
//
// [FromTransport] shares the token of an HTTP [base.Transport] instead, so
// that the HTTP and gRPC calls of one service use one token.
//
// DPoP-bound tokens (RFC 9449, e.g. from an authorizer with
// oauth2auth.WithDPoP) are refused: their proof signs an HTTP method and
// URL, which a gRPC call has not, and sending such a token as Bearer
// would undo the binding. Every call then fails with
// codes.FailedPrecondition and a message saying so, before anything is
// sent; the token stays usable for the Transport's HTTP requests.
//
// # Server
//
//	srv := grpc.NewServer(
//		grpc.UnaryInterceptor(grpcauth.UnaryServerInterceptor(v, opts...)),
//		grpc.StreamInterceptor(grpcauth.StreamServerInterceptor(v, opts...)))
//
// A handler reads the claims with [verify.ClaimsFrom], as behind
// [verify.Middleware].
//
// # Status codes
//
// Errors of this SDK become gRPC status codes by one table ([Code]):
//
//	context.Canceled, [authorizer.ErrClosed]      codes.Canceled
//	context.DeadlineExceeded                     codes.DeadlineExceeded
//	[*authorizer.InvalidConfigError]             codes.Internal
//	[errors.ErrUnsupported] (a DPoP token)       codes.FailedPrecondition
//	[authorizer.ErrInsecureTransport]            codes.Unauthenticated
//	[*authorizer.InvalidClientError]             codes.Unauthenticated
//	[*authorizer.InvalidCredentialsError]        codes.Unauthenticated
//	[*authorizer.InvalidTokenError], Temporary   codes.Unavailable
//	[*authorizer.InvalidTokenError]              codes.Unauthenticated
//	any error whose Temporary() is true          codes.Unavailable
//	anything else                                codes.Unauthenticated
//
// A server adds codes.PermissionDenied for a valid token that lacks a
// method's scopes. Server status messages are fixed words that never say
// why a token failed (that would help an attacker); the client's carry the
// SDK error's message, which never holds a secret.
package grpcauth
