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
