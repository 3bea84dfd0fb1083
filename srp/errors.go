package srp

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/servertext"
)

// ChallengeError reports a Cognito challenge the Authorizer could not
// answer: no handler was configured for it (Err is nil), or the handler
// failed (Err is its error). It never holds the answer.
//
// The Authorizer returns it wrapped in an [*authorizer.AuthorizationError]
// (Code = the challenge name), so both errors.As(err, &*ChallengeError) and
// errors.As(err, &[*authorizer.AuthorizationError]) work; Temporary() is false.
type ChallengeError struct {
	// Name is the challenge, e.g. "SOFTWARE_TOKEN_MFA".
	Name string
	// Err is the handler's error, or nil when no handler was configured.
	Err error
}

func (e *ChallengeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("srp: challenge %s needs a handler (see %s)", e.Name, handlerOption(e.Name))
	}
	return fmt.Sprintf("srp: challenge %s: %v", e.Name, e.Err)
}

// handlerOption names the option that answers the challenge name.
func handlerOption(name string) string {
	switch name {
	case challengeNewPassword:
		return "srp.WithNewPasswordHandler"
	case challengeSoftwareToken, challengeSMS, challengeEmailOTP:
		return "srp.WithMFAHandler"
	}
	return "srp.WithChallengeHandler"
}

// Unwrap returns the handler's error.
func (e *ChallengeError) Unwrap() error { return e.Err }

// challengeFailure wraps a ChallengeError in the AuthorizationError callers
// and the Transport branch on.
func challengeFailure(name string, cause error) error {
	return &authorizer.AuthorizationError{
		Message: "srp: sign-in stopped at a challenge",
		Code:    name,
		Err:     &ChallengeError{Name: name, Err: cause},
	}
}

// paramError reports a malformed challenge parameter from the server. It
// names the parameter, never its value.
func paramError(name, problem string) error {
	return &authorizer.AuthorizationError{
		Message:     "srp: invalid challenge from Cognito",
		Code:        "InvalidChallengeParameter",
		Description: name + " " + problem,
	}
}

// phase says which call failed, for the wording of refused credentials.
type phase int

const (
	phaseSignIn  phase = iota // InitiateAuth USER_SRP_AUTH and the challenge answers
	phaseRefresh              // InitiateAuth REFRESH_TOKEN_AUTH
)

// Error codes Cognito sends that this package maps specially.
const (
	codeNotAuthorized    = "NotAuthorizedException"
	codeUserNotFound     = "UserNotFoundException"
	codeResourceNotFound = "ResourceNotFoundException"
	codeTooManyRequests  = "TooManyRequestsException"
	codeLimitExceeded    = "LimitExceededException"
)

// Fixed descriptions of refused credentials. Cognito's own messages are
// not passed on: "User does not exist." against "Incorrect username or
// password." would tell who has an account, and a server (moto does) may
// echo the SECRET_HASH it was sent.
const (
	descSignInRefused  = "incorrect username or password"
	descRefreshRefused = "refresh token was refused"
)

// mapError turns an error of the Cognito client into this SDK's typed
// errors:
//
//   - NotAuthorizedException and UserNotFoundException: an
//     [*authorizer.InvalidCredentialsError] with one fixed message per phase,
//     the same for both codes (no user enumeration) and without the
//     server's text;
//   - ResourceNotFoundException (unknown app client): [*authorizer.InvalidClientError];
//   - TooManyRequestsException and LimitExceededException: an
//     [*authorizer.AuthorizationError] with the HTTP status that carried it
//     (Cognito uses 400) and a cause that makes Temporary() true;
//   - anything else: an [*authorizer.AuthorizationError] with the HTTP status
//     (5xx is Temporary), the error code and message, wrapping err.
//
// Every text of the server quoted in the result (the code, the message, the
// wrapped error's string) goes through servertext.Clean: capped, control
// characters replaced, and each value in sent (the secrets of the call
// that failed) removed. A Lambda trigger's message that echoes the
// SECRET_HASH, or 200 KiB with escape sequences, cannot reach an error
// string.
func mapError(err error, ph phase, clientID, userName string, sent []string) error {
	cause := &serverTextError{err: err, text: servertext.Clean(err.Error(), maxCauseLen, sent...)}
	status := httpStatus(err)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		if lostConnection(err) {
			return &authorizer.AuthorizationError{StatusCode: status, Message: "srp: Cognito request failed",
				Err: temporary{cause}} // the answer was lost, whatever status came first
		}
		return &authorizer.AuthorizationError{StatusCode: status, Message: "srp: Cognito request failed", Err: cause}
	}
	switch code := apiErr.ErrorCode(); code {
	case codeNotAuthorized, codeUserNotFound:
		desc := descSignInRefused
		if ph == phaseRefresh {
			desc = descRefreshRefused
		}
		return &authorizer.InvalidCredentialsError{UserName: userName, StatusCode: status, Code: codeNotAuthorized, Description: desc}
	case codeResourceNotFound:
		return &authorizer.InvalidClientError{ClientID: clientID, StatusCode: status, Code: code, Description: "app client not found", Err: cause}
	}
	var wrapped error = cause
	if code := apiErr.ErrorCode(); code == codeTooManyRequests || code == codeLimitExceeded {
		wrapped = temporary{cause}
	}
	return &authorizer.AuthorizationError{
		StatusCode: status, Message: "srp: Cognito refused the request",
		Code:        servertext.Clean(apiErr.ErrorCode(), maxCodeLen, sent...),
		Description: servertext.Clean(apiErr.ErrorMessage(), servertext.Limit, sent...),
		Err:         wrapped,
	}
}

// Caps of the server's text as quoted in errors.
const (
	maxCodeLen  = 64  // an exception name
	maxCauseLen = 512 // the SDK's error string: operation, status, request id, message
)

// serverTextError is the Cognito client's error with a cleaned Error
// string: the server's message in it is capped, its control characters
// replaced and the secrets this call sent (SECRET_HASH, SRP values, the
// refresh token, a new password, challenge answers) removed. Unwrap gives
// the original error, for errors.As(err, &smithy.APIError) and the like;
// its own message is the server's raw text.
type serverTextError struct {
	err  error
	text string
}

func (e *serverTextError) Error() string { return e.text }
func (e *serverTextError) Unwrap() error { return e.err }

// temporary marks a cause as temporary (Cognito's throttling, which
// arrives with HTTP 400; an answer lost with its connection):
// AuthorizationError.Temporary asks its cause.
type temporary struct{ error }

func (t temporary) Temporary() bool { return true }
func (t temporary) Unwrap() error   { return t.error }

// httpStatus returns the HTTP status of the response that carried err, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// sentSecrets returns what the error of a call that sent params must not
// quote: every value of params but USERNAME (SECRET_HASH, SRP_A, the
// password claim, REFRESH_TOKEN, NEW_PASSWORD, MFA codes, a custom answer),
// the client secret, and extra (the password).
func (a *Authorizer) sentSecrets(params map[string]string, extra ...string) []string {
	s := append([]string{a.info.ClientSecret}, extra...)
	for k, v := range params {
		if k != "USERNAME" {
			s = append(s, v)
		}
	}
	return s
}
