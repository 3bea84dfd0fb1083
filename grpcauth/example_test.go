package grpcauth_test

import (
	"context"
	"fmt"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/grpcauth"
)

// Code maps the SDK's typed errors to gRPC status codes.
func ExampleCode() {
	fmt.Println(grpcauth.Code(context.DeadlineExceeded))
	fmt.Println(grpcauth.Code(&authorizer.InvalidClientError{}))
	fmt.Println(grpcauth.Code(&authorizer.AuthorizationError{StatusCode: 503}))
	fmt.Println(grpcauth.Code(&authorizer.InvalidConfigError{Setting: "s", Problem: "p"}))
	// Output:
	// DeadlineExceeded
	// Unauthenticated
	// Unavailable
	// Internal
}
