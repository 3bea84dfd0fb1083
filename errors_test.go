package authorizer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorsAreFoundThroughURLError(t *testing.T) {
	cause := errors.New("root cause")
	tests := []struct {
		name   string
		err    error
		target func(error) bool
	}{
		{name: "authorization", err: &authorizer.AuthorizationError{Message: "m", Err: cause},
			target: func(e error) bool { var x *authorizer.AuthorizationError; return errors.As(e, &x) }},
		{name: "invalid client", err: &authorizer.InvalidClientError{ClientID: "c", Err: cause},
			target: func(e error) bool { var x *authorizer.InvalidClientError; return errors.As(e, &x) }},
		{name: "invalid credentials", err: &authorizer.InvalidCredentialsError{UserName: "u", Err: cause},
			target: func(e error) bool { var x *authorizer.InvalidCredentialsError; return errors.As(e, &x) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrapped := &url.Error{Op: "Get", URL: "https://api.example.test", Err: tt.err}
			assert.True(t, tt.target(wrapped), "errors.As through *url.Error")
			assert.ErrorIs(t, wrapped, cause, "cause reachable")
		})
	}
}

func TestTemporary(t *testing.T) {
	netErr := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  interface{ Temporary() bool }
		want bool
	}{
		{name: "429", err: &authorizer.AuthorizationError{StatusCode: 429}, want: true},
		{name: "503", err: &authorizer.AuthorizationError{StatusCode: 503}, want: true},
		{name: "400", err: &authorizer.AuthorizationError{StatusCode: 400, Code: "invalid_scope"}},
		{name: "network", err: &authorizer.AuthorizationError{Err: netErr}, want: true},
		{name: "the caller's deadline", err: &authorizer.AuthorizationError{Err: context.DeadlineExceeded}},
		{name: "cancelled", err: &authorizer.AuthorizationError{Err: context.Canceled}},
		{name: "cancelled inside a url.Error", err: &authorizer.AuthorizationError{
			Err: &url.Error{Op: "Post", URL: "https://id.example/token", Err: context.Canceled}}},
		{name: "the caller's deadline inside a url.Error", err: &authorizer.AuthorizationError{
			Err: &url.Error{Op: "Post", URL: "https://id.example/token", Err: context.DeadlineExceeded}}},
		{name: "the caller's deadline beside a network error", err: &authorizer.AuthorizationError{
			Err: fmt.Errorf("%w: %w", context.DeadlineExceeded, netErr)}},
		{name: "the SDK's own timeout", err: &authorizer.AuthorizationError{Err: authorizer.ErrTimeout}, want: true},
		{name: "the SDK's own timeout inside a url.Error, ctx.Err beside it", err: &authorizer.AuthorizationError{
			Err: fmt.Errorf("%w: %w", context.DeadlineExceeded,
				&url.Error{Op: "Post", URL: "https://id.example/token", Err: authorizer.ErrTimeout})}, want: true},
		{name: "503 although the caller gave up", err: &authorizer.AuthorizationError{StatusCode: 503, Err: context.Canceled}, want: true},
		{name: "malformed answer", err: &authorizer.AuthorizationError{StatusCode: 200, Message: "bad json"}},
		{name: "400 with a temporary cause", err: &authorizer.AuthorizationError{StatusCode: 400, Err: tempErr{}}, want: true},
		{name: "400 with a network cause", err: &authorizer.AuthorizationError{StatusCode: 400, Err: netErr}},
		{name: "invalid client", err: &authorizer.InvalidClientError{StatusCode: 401}},
		{name: "invalid credentials", err: &authorizer.InvalidCredentialsError{StatusCode: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Temporary())
		})
	}
}

// TestTemporaryOverHTTP checks the rule against what net/http really
// returns: the caller's deadline and cancellation are not temporary, an
// http.Client's Timeout and a timeout with ErrTimeout as its cause are.
func TestTemporaryOverHTTP(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	get := func(ctx context.Context, c *http.Client) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		return &authorizer.AuthorizationError{Message: "test: token request failed", Err: err}
	}
	tests := []struct {
		name string
		call func() error
		want bool
	}{
		{name: "caller's deadline", call: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			return get(ctx, http.DefaultClient)
		}},
		{name: "caller cancels", call: func() error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(time.Millisecond, cancel)
			return get(ctx, http.DefaultClient)
		}},
		{name: "http.Client Timeout", want: true, call: func() error {
			return get(context.Background(), &http.Client{Timeout: time.Millisecond})
		}},
		{name: "SDK timeout (ErrTimeout cause)", want: true, call: func() error {
			ctx, cancel := context.WithTimeoutCause(context.Background(), time.Millisecond, authorizer.ErrTimeout)
			defer cancel()
			return get(ctx, http.DefaultClient)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.want, ae.Temporary(), "%v", err)
		})
	}
	assert.ErrorIs(t, authorizer.ErrTimeout, context.DeadlineExceeded, "ErrTimeout is a deadline")
}

// tempErr is a cause that says it is temporary (a throttling error).
type tempErr struct{}

func (tempErr) Error() string   { return "throttled" }
func (tempErr) Temporary() bool { return true }

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "rfc fields", err: &authorizer.AuthorizationError{Message: "oauth2auth: token request failed",
			StatusCode: 400, Code: "invalid_scope", Description: "unknown scope"},
			want: "oauth2auth: token request failed (status 400, invalid_scope: unknown scope)"},
		{name: "default message and cause", err: &authorizer.AuthorizationError{Err: errors.New("eof")},
			want: "authorizer: authorization failed: eof"},
		{name: "client", err: &authorizer.InvalidClientError{ClientID: "svc", StatusCode: 401, Code: "invalid_client"},
			want: `authorizer: client "svc" was refused (status 401, invalid_client)`},
		{name: "user", err: &authorizer.InvalidCredentialsError{UserName: "alice", Code: "NotAuthorizedException"},
			want: `authorizer: credentials were refused for user "alice" (NotAuthorizedException)`},
		{name: "config", err: &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment.TokenURL", Problem: "is empty"},
			want: "oauth2auth: Environment.TokenURL is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestRetryAfterIsKept(t *testing.T) {
	err := fmt.Errorf("fetch: %w", &authorizer.AuthorizationError{StatusCode: 429, RetryAfter: 2 * time.Second})
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 2*time.Second, ae.RetryAfter)
	assert.True(t, ae.Temporary())
}

func ExampleInvalidClientError() {
	var err error = &url.Error{Op: "Get", URL: "https://api.example.test/orders",
		Err: &authorizer.InvalidClientError{ClientID: "orders-service", StatusCode: 401, Code: "invalid_client"}}
	var ice *authorizer.InvalidClientError
	if errors.As(err, &ice) {
		fmt.Println("fix the credentials of", ice.ClientID, "- retrying will not help:", !ice.Temporary())
	}
	// Output: fix the credentials of orders-service - retrying will not help: true
}
