package grpcauth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
)

// Code follows the package doc's table, through wrapping.
func TestCodeTable(t *testing.T) {
	temp := &authorizer.AuthorizationError{StatusCode: 503, Message: "x"}
	rows := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"nil", nil, codes.OK},
		{"canceled", fmt.Errorf("w: %w", context.Canceled), codes.Canceled},
		{"closed", &authorizer.AuthorizationError{Err: authorizer.ErrClosed}, codes.Canceled},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded},
		{"config", &authorizer.InvalidConfigError{Setting: "s", Problem: "p"}, codes.Internal},
		{"unsupported (DPoP)", &authorizer.AuthorizationError{Err: errors.ErrUnsupported}, codes.FailedPrecondition},
		{"insecure", authorizer.ErrInsecureTransport, codes.Unauthenticated},
		{"client", &authorizer.InvalidClientError{}, codes.Unauthenticated},
		{"credentials", &authorizer.InvalidCredentialsError{}, codes.Unauthenticated},
		{"token", &authorizer.InvalidTokenError{Reason: authorizer.TokenExpired}, codes.Unauthenticated},
		{"token, keys down", &authorizer.InvalidTokenError{Reason: authorizer.TokenUnknownKey, Err: temp}, codes.Unavailable},
		{"temporary", temp, codes.Unavailable},
		{"other", errors.New("x"), codes.Unauthenticated},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { assert.Equal(t, r.want, Code(r.err)) })
	}
}
