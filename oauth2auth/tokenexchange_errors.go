package oauth2auth

import (
	"errors"
	"fmt"
)

// SubjectTokenError is returned by a [TokenExchangeAuthorizer] when it
// could not get the token it exchanges (Role "subject") or the actor token
// (Role "actor") from their authorizer. Err is that authorizer's error
// (e.g. an *[authorizer.InvalidCredentialsError] for a signed-out user),
// reachable with errors.As.
type SubjectTokenError struct {
	// Role is "subject" or "actor".
	Role string
	// Err is the subject's or actor's error.
	Err error
}

func (e *SubjectTokenError) Error() string {
	return fmt.Sprintf("oauth2auth: token exchange: could not get the %s token: %v", e.Role, e.Err)
}

func (e *SubjectTokenError) Unwrap() error { return e.Err }

// Temporary reports whether Err is temporary.
func (e *SubjectTokenError) Temporary() bool {
	var t interface{ Temporary() bool }
	return errors.As(e.Err, &t) && t.Temporary()
}

// IssuedTokenTypeError is returned when a token exchange's answer has no
// issued_token_type (RFC 8693 §2.2.1 requires one), or one other than the
// requested one ([WithRequestedTokenType]), or, when none was requested,
// neither [TokenTypeAccessToken] nor [TokenTypeJWT]. The token is not
// used. Temporary() is false.
type IssuedTokenTypeError struct {
	// Requested is the requested_token_type sent, "" when none was.
	Requested string
	// Issued is the issued_token_type answered (cleaned), "" when absent.
	Issued string
}

func (e *IssuedTokenTypeError) Error() string {
	if e.Issued == "" {
		return "oauth2auth: token exchange answered without issued_token_type (RFC 8693 §2.2.1)"
	}
	want := e.Requested
	if want == "" {
		want = TokenTypeAccessToken + " or " + TokenTypeJWT
	}
	return fmt.Sprintf("oauth2auth: token exchange issued a token of type %q; want %s", e.Issued, want)
}

// Temporary reports false: asking again gives the same kind of token.
func (e *IssuedTokenTypeError) Temporary() bool { return false }
