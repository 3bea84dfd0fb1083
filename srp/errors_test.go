package srp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/seed-d44eba79/authorizer/srp/internal/srptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failWith makes every call of op fail with err.
func failWith(op string, err error) func(srptest.Call) error {
	return func(c srptest.Call) error {
		if c.Op == op {
			return err
		}
		return nil
	}
}

func TestErrorMapping(t *testing.T) {
	const secretPassword = "S3cret-Pa55word!"
	type want struct {
		kind      string // "credentials", "client", "authorization"
		temporary bool
		status    int
		code      string
	}
	for _, tc := range []struct {
		name     string
		user     string
		clientID string
		fail     func(srptest.Call) error
		want     want
	}{
		{name: "wrong password", user: "alice", want: want{kind: "credentials", status: 400, code: "NotAuthorizedException"}},
		{name: "unknown user", user: "nobody", want: want{kind: "credentials", status: 400, code: "NotAuthorizedException"}},
		{name: "disabled user", user: "dave", want: want{kind: "credentials", status: 400, code: "NotAuthorizedException"}},
		{name: "unknown client", user: "alice", clientID: "no-such-client", want: want{kind: "client", status: 400, code: "ResourceNotFoundException"}},
		{name: "throttled", user: "alice", fail: failWith("InitiateAuth", srptest.APIError(400, &types.TooManyRequestsException{Message: aws.String("Rate exceeded")})),
			want: want{kind: "authorization", temporary: true, status: 400, code: "TooManyRequestsException"}},
		{name: "limit exceeded", user: "alice", fail: failWith("RespondToAuthChallenge", srptest.APIError(400, &types.LimitExceededException{Message: aws.String("limit")})),
			want: want{kind: "authorization", temporary: true, status: 400, code: "LimitExceededException"}},
		{name: "internal error", user: "alice", fail: failWith("InitiateAuth", srptest.APIError(500, &types.InternalErrorException{Message: aws.String("boom")})),
			want: want{kind: "authorization", temporary: true, status: 500, code: "InternalErrorException"}},
		{name: "unconfirmed user", user: "alice", fail: failWith("InitiateAuth", srptest.APIError(400, &types.UserNotConfirmedException{Message: aws.String("User is not confirmed.")})),
			want: want{kind: "authorization", status: 400, code: "UserNotConfirmedException"}},
		{name: "network", user: "alice", fail: failWith("InitiateAuth", &net.OpError{Op: "dial", Err: errors.New("connection refused")}),
			want: want{kind: "authorization", temporary: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pool(testSecret)
			f.Fail = tc.fail
			clientID := testClientID
			if tc.clientID != "" {
				clientID = tc.clientID
			}
			a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: clientID, ClientSecret: testSecret},
				data.UserCredentials{UserName: tc.user, Password: secretPassword}, testEnv, srp.WithCognitoClient(f))
			require.NoError(t, err)
			_, err = a.Authorize(context.Background())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secretPassword)
			assert.NotContains(t, fmt.Sprintf("%+v %#v %v", err, err, a), secretPassword)
			assert.NotContains(t, err.Error(), testSecret)

			var temp interface{ Temporary() bool }
			require.ErrorAs(t, err, &temp)
			assert.Equal(t, tc.want.temporary, temp.Temporary())
			switch tc.want.kind {
			case "credentials":
				var e *authorizer.InvalidCredentialsError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.want.code, e.Code)
				assert.Equal(t, tc.user, e.UserName)
				// No user enumeration: unknown, disabled and wrong password read alike.
				assert.Equal(t, strings.Replace(err.Error(), tc.user, "U", 1),
					`authorizer: credentials were refused for user "U" (status 400, NotAuthorizedException: incorrect username or password)`)
			case "client":
				var e *authorizer.InvalidClientError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, clientID, e.ClientID)
			case "authorization":
				var e *authorizer.AuthorizationError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.want.status, e.StatusCode)
				assert.Equal(t, tc.want.code, e.Code)
			}
		})
	}
}

// TestPasswordNeverInErrors also covers the refresh path and the printed
// Authorizer.
func TestPasswordNeverInErrors(t *testing.T) {
	f := pool(testSecret)
	a := newAuth(t, f, newClock(t0), "alice", alicePass)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a), a.String()} {
		assert.NotContains(t, s, alicePass)
		assert.NotContains(t, s, testSecret)
	}
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	f.Revoke()
	_, err = a.Refresh(context.Background(), tok)
	require.Error(t, err)
	for _, secret := range []string{alicePass, testSecret, tok.RefreshToken, tok.AccessToken} {
		assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), secret)
	}
}

// TestServerTextIsCleaned: a message of Cognito (a Lambda trigger's) that
// echoes what was sent, with escape sequences and 200 KiB of text, reaches
// the error capped, cleaned and without any secret of the call.
func TestServerTextIsCleaned(t *testing.T) {
	echo := func(op string) func(srptest.Call) error {
		return func(c srptest.Call) error {
			if c.Op != op || c.Flow == "REFRESH_TOKEN_AUTH" && op != "refresh" {
				return nil
			}
			var b strings.Builder
			b.WriteString("PreAuthentication failed with error \x1b[2J\x1b]0;owned\x07 got\n")
			for k, v := range c.Params {
				fmt.Fprintf(&b, "%s=%s&", k, v)
			}
			b.WriteString(strings.Repeat("A", 200<<10))
			return srptest.APIError(400, &smithy.GenericAPIError{Code: "UserLambdaValidationException\x1b[31m", Message: b.String()})
		}
	}
	for _, tc := range []struct {
		name string
		op   string
	}{
		{name: "InitiateAuth USER_SRP_AUTH", op: "InitiateAuth"},
		{name: "RespondToAuthChallenge", op: "RespondToAuthChallenge"},
		{name: "REFRESH_TOKEN_AUTH", op: "refresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pool(testSecret)
			a := newAuth(t, f, newClock(t0), "alice", alicePass)
			var err error
			if tc.op == "refresh" {
				tok, aerr := a.Authorize(context.Background())
				require.NoError(t, aerr)
				f.Fail = func(c srptest.Call) error {
					if c.Flow == "REFRESH_TOKEN_AUTH" {
						return echo("InitiateAuth")(srptest.Call{Op: "InitiateAuth", Params: c.Params})
					}
					return nil
				}
				_, err = a.Refresh(context.Background(), tok)
			} else {
				f.Fail = echo(tc.op)
				_, err = a.Authorize(context.Background())
			}
			require.Error(t, err)
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			msg := fmt.Sprintf("%v|%+v|%s|%s", err, err, ae.Code, ae.Description)
			assert.Less(t, len(err.Error()), 2048, "capped")
			assert.Contains(t, ae.Description, "PreAuthentication failed", "the message is kept")
			assert.NotContains(t, msg, "\x1b", "no escape sequences")
			assert.NotContains(t, msg, "\n")
			sent := f.Calls()[len(f.Calls())-1].Params
			require.NotEmpty(t, sent)
			for k, v := range sent {
				if k != "USERNAME" {
					assert.NotContains(t, msg, v, "%s was echoed into the error", k)
				}
			}
			assert.NotContains(t, msg, testSecret)
			assert.NotContains(t, msg, alicePass)
			var api smithy.APIError
			require.ErrorAs(t, err, &api, "the SDK's error stays reachable")
		})
	}
}

// TestChallengeErrorNamesTheOption: a challenge without a handler points
// at the option that answers it.
func TestChallengeErrorNamesTheOption(t *testing.T) {
	for _, tc := range []struct{ challenge, option string }{
		{"NEW_PASSWORD_REQUIRED", "srp.WithNewPasswordHandler"},
		{"SOFTWARE_TOKEN_MFA", "srp.WithMFAHandler"},
		{"SMS_MFA", "srp.WithMFAHandler"},
		{"EMAIL_OTP", "srp.WithMFAHandler"},
		{"SELECT_MFA_TYPE", "srp.WithChallengeHandler"},
	} {
		t.Run(tc.challenge, func(t *testing.T) {
			err := &srp.ChallengeError{Name: tc.challenge}
			assert.Equal(t, "srp: challenge "+tc.challenge+" needs a handler (see "+tc.option+")", err.Error())
		})
	}
	// Through a real sign-in: frank must choose a new password.
	f := srptest.NewFake(testPoolName, testClientID, "", map[string]*srptest.User{
		"frank": {Password: "Frank-Temp0rary!", ForceChange: true}})
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: testClientID},
		data.UserCredentials{UserName: "frank", Password: "Frank-Temp0rary!"}, testEnv, srp.WithCognitoClient(f))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithNewPasswordHandler")
}
