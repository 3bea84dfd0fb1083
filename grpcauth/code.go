package grpcauth

import (
	"context"
	"errors"

	"github.com/seed-d44eba79/authorizer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Code is the gRPC status code of an SDK error, by the table in the
// package doc. Code(nil) is codes.OK.
func Code(err error) codes.Code {
	var cfg *authorizer.InvalidConfigError
	var tok *authorizer.InvalidTokenError
	var tmp interface{ Temporary() bool }
	switch {
	case err == nil:
		return codes.OK
	case errors.Is(err, context.Canceled), errors.Is(err, authorizer.ErrClosed):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.As(err, &cfg):
		return codes.Internal
	case errors.Is(err, errors.ErrUnsupported):
		return codes.FailedPrecondition
	case errors.As(err, &tok):
		if tok.Temporary() {
			return codes.Unavailable
		}
		return codes.Unauthenticated
	case errors.As(err, &tmp) && tmp.Temporary():
		return codes.Unavailable
	}
	return codes.Unauthenticated
}

// clientStatus is the status a call gets when no token can be had: the
// code of err, and its message (SDK errors never hold a secret).
func clientStatus(err error) error {
	return status.Error(Code(err), "grpcauth: no token: "+err.Error())
}
