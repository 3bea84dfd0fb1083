package authorizer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors, for errors.Is.
var (
	// ErrInsecureTransport: credentials were not attached because the request
	// used plain http to a host that is not loopback. Opt out with an
	// Insecure… option.
	ErrInsecureTransport = errors.New("authorizer: refusing to send credentials over plain http to a non-loopback host")
	// ErrClosed: the Transport was closed.
	ErrClosed = errors.New("authorizer: transport closed")
	// ErrBackoff: token requests failed recently and the next one is not due;
	// the error that caused the backoff is wrapped alongside (see
	// [AuthorizationError.RetryAfter]).
	ErrBackoff = errors.New("authorizer: token requests are backing off after a failure")
)

// AuthorizationError is a failure to obtain or use a token: an error answer
// from a token endpoint (RFC 6749 §5.2), an unreadable answer, or a network
// failure on the way there.
type AuthorizationError struct {
	// StatusCode is the HTTP status of the answer, or 0 when none arrived.
	StatusCode int
	// Message says what failed, in words; never a secret.
	Message string
	// Code, Description and URI are the RFC 6749 §5.2 "error",
	// "error_description" and "error_uri" fields, when the server sent them.
	Code, Description, URI string
	// RetryAfter is the server's Retry-After, or 0 when it sent none (see
	// [ParseRetryAfter]).
	RetryAfter time.Duration
	// Err is the cause, if any.
	Err error
}

func (e *AuthorizationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Message == "" {
		b.WriteString("authorizer: authorization failed")
	}
	writeDetails(&b, e.StatusCode, e.Code, e.Description)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *AuthorizationError) Unwrap() error { return e.Err }

// Temporary reports whether the provider, or the network to it, failed in
// a way that may pass, so that the same request sent later can succeed:
//
//   - the provider answered 429 (throttling) or 5xx (failing);
//   - a request to the provider ran out of the time the SDK gives it
//     ([ErrTimeout] in the chain: the provider was too slow), or an
//     http.Client's own Timeout;
//   - a cause says it is temporary (a Temporary method returning true,
//     e.g. a service's throttling error carried by an HTTP 400);
//   - no answer arrived (StatusCode 0) because of a network failure
//     (a net.Error: connection refused, reset, DNS failure, i/o timeout).
//
// The end of a context is not temporary: when the chain holds
// [context.Canceled], or [context.DeadlineExceeded] itself (a context's
// deadline, typically the caller's own, or a Transport's Close), the
// request was given up by its caller and says nothing about the provider;
// Temporary reports false, and errors.Is(err, [context.DeadlineExceeded]) or
// errors.Is(err, [context.Canceled]) tells the caller it was theirs. Every
// other failure (a refused request, a malformed answer) is not temporary.
func (e *AuthorizationError) Temporary() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return true
	case holds(e.Err, ErrTimeout):
		return true
	case errors.Is(e.Err, context.Canceled) || holds(e.Err, context.DeadlineExceeded):
		return false
	}
	var t interface{ Temporary() bool }
	if errors.As(e.Err, &t) && t.Temporary() {
		return true
	}
	var ne net.Error
	return e.StatusCode == 0 && errors.As(e.Err, &ne)
}

// ErrTimeout marks a request to a provider that ran out of the time the
// SDK gives it (e.g. a Transport's fetch timeout): the provider was too
// slow, which [AuthorizationError.Temporary] reports as temporary, unlike
// the end of the caller's own context. errors.Is(ErrTimeout,
// [context.DeadlineExceeded]) is true, so code that checks for a deadline
// still sees one. SDK code sets it as the cause of its own timeouts:
// [context.WithTimeoutCause](ctx, d, authorizer.ErrTimeout); net/http then
// reports the cause.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "authorizer: the request to the provider timed out" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
func (timeoutError) Timeout() bool        { return true }

// holds reports whether target itself (compared with ==, not through Is
// methods) is in err's chain. errors.Is would also match errors that only
// say they are like target (an HTTP client's timeout, [ErrTimeout] "is" a
// deadline).
func holds(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if holds(e, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// InvalidClientError: the identity provider does not accept the client
// (RFC 6749 invalid_client or unauthorized_client, an unknown app client).
// It names the client id, never the secret. Retrying cannot help.
type InvalidClientError struct {
	// ClientID is the client that was refused.
	ClientID string
	// StatusCode, Code and Description are as the server sent them.
	StatusCode        int
	Code, Description string
	// Err is the cause, if any.
	Err error
}

func (e *InvalidClientError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "authorizer: client %q was refused", e.ClientID)
	writeDetails(&b, e.StatusCode, e.Code, e.Description)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *InvalidClientError) Unwrap() error { return e.Err }

// Temporary reports false: a refused client stays refused.
func (e *InvalidClientError) Temporary() bool { return false }

// InvalidCredentialsError: the user's (or the grant's) credentials were
// refused: a wrong password, an unknown or disabled user, an expired or
// revoked refresh token (RFC 6749 invalid_grant). It names the user, never
// the password; an unknown user and a wrong password read the same. Retrying
// cannot help, and automatic retries of a password can lock the account.
type InvalidCredentialsError struct {
	// UserName is the user who was refused, when there is one.
	UserName string
	// StatusCode, Code and Description are as the server sent them.
	StatusCode        int
	Code, Description string
	// Err is the cause, if any.
	Err error
}

func (e *InvalidCredentialsError) Error() string {
	var b strings.Builder
	b.WriteString("authorizer: credentials were refused")
	if e.UserName != "" {
		fmt.Fprintf(&b, " for user %q", e.UserName)
	}
	writeDetails(&b, e.StatusCode, e.Code, e.Description)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *InvalidCredentialsError) Unwrap() error { return e.Err }

// Temporary reports false: refused credentials stay refused.
func (e *InvalidCredentialsError) Temporary() bool { return false }

// InvalidConfigError: a constructor or option was given something it cannot
// use. It names the setting and the problem, never a secret value.
type InvalidConfigError struct {
	// Setting names what is wrong, e.g. "oauth2auth: Environment.TokenURL".
	Setting string
	// Problem says why, e.g. "is empty".
	Problem string
}

func (e *InvalidConfigError) Error() string {
	return e.Setting + " " + e.Problem
}

// writeDetails appends " (status 401, invalid_client: description)".
func writeDetails(b *strings.Builder, status int, code, desc string) {
	if status == 0 && code == "" {
		return
	}
	b.WriteString(" (")
	if status != 0 {
		fmt.Fprintf(b, "status %d", status)
		if code != "" {
			b.WriteString(", ")
		}
	}
	b.WriteString(code)
	if desc != "" {
		b.WriteString(": ")
		b.WriteString(desc)
	}
	b.WriteString(")")
}
