package grpcauth

import (
	"context"

	"github.com/seed-d44eba79/authorizer/base"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// UnaryClientInterceptor returns an interceptor that sends each unary call
// with the current token and, when the server answers
// codes.Unauthenticated, retires that token if it is still current: many
// such answers for one token cause one token request. With
// [WithUnaryRetry] the call is then sent once more with the new token
// (never a third time). Use it with c as the connection's
// grpc.WithPerRPCCredentials. The call's ctx bounds the wait for a token.
func (c *Credentials) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		cred, err := c.t.Credential(ctx)
		if err != nil {
			return clientStatus(err)
		}
		cctx, ch := c.withChosen(ctx, cred)
		err = invoker(cctx, method, req, reply, cc, append(opts, ch.callOption())...)
		if !ch.answered(err) || !c.cfg.retry {
			return err
		}
		next, nerr := c.t.Credential(ctx)
		if nerr != nil || next.Same(cred) {
			return err
		}
		cctx, ch = c.withChosen(ctx, next)
		err = invoker(cctx, method, req, reply, cc, append(opts, ch.callOption())...)
		ch.answered(err)
		return err
	}
}

// StreamClientInterceptor returns an interceptor that opens each stream
// with the current token, which the stream keeps for its life; an
// codes.Unauthenticated answer retires the token as for unary calls, but
// a stream is never replayed.
func (c *Credentials) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cred, err := c.t.Credential(ctx)
		if err != nil {
			return nil, clientStatus(err)
		}
		sctx, ch := c.withChosen(ctx, cred)
		s, err := streamer(sctx, desc, cc, method, append(opts, ch.callOption())...)
		if err != nil {
			ch.answered(err)
			return nil, err
		}
		return &watchedStream{ClientStream: s, ch: ch}, nil
	}
}

// watchedStream reports its token refused when the stream ends with
// codes.Unauthenticated, and accepted when a message arrives.
type watchedStream struct {
	grpc.ClientStream
	ch *chosen
}

func (s *watchedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.ch.answered(err)
	} else if s.ch.sent.Load() {
		s.ch.cred.Accepted()
	}
	return err
}

// refused reports the server's answer about cred: Unauthenticated retires
// it (and refused returns true), any other status accepts it.
func refused(cred base.Credential, err error) bool {
	code := status.Code(err)
	switch code {
	case codes.Unauthenticated:
		cred.Refused()
		return true
	case codes.OK, codes.PermissionDenied, codes.NotFound, codes.InvalidArgument,
		codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange, codes.Unimplemented:
		cred.Accepted() // the server read the call with this token
	}
	return false
}
