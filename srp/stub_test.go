package srp

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// stub is a CognitoClient that answers from fixed outputs and records
// what it got.
type stub struct {
	initiate *cip.InitiateAuthOutput
	respond  *cip.RespondToAuthChallengeOutput
	inits    []*cip.InitiateAuthInput
	resps    []*cip.RespondToAuthChallengeInput
}

func (s *stub) InitiateAuth(_ context.Context, in *cip.InitiateAuthInput, _ ...func(*cip.Options)) (*cip.InitiateAuthOutput, error) {
	s.inits = append(s.inits, in)
	return s.initiate, nil
}

func (s *stub) RespondToAuthChallenge(_ context.Context, in *cip.RespondToAuthChallengeInput, _ ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error) {
	s.resps = append(s.resps, in)
	return s.respond, nil
}

func stubAuth(t *testing.T, s *stub, opts ...Option) *Authorizer {
	t.Helper()
	a, err := NewAuthorizer(data.ClientInfo{ClientID: "c"}, data.UserCredentials{UserName: "u", Password: "Secret-Pw1!"},
		Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_P"}, append([]Option{WithCognitoClient(s)}, opts...)...)
	require.NoError(t, err)
	return a
}

func verifierOutput(p map[string]string) *cip.InitiateAuthOutput {
	return &cip.InitiateAuthOutput{ChallengeName: "PASSWORD_VERIFIER", ChallengeParameters: p}
}

// TestHostileChallenges: malformed server values give a typed error, never
// a panic, and no password claim is sent.
func TestHostileChallenges(t *testing.T) {
	block := base64.StdEncoding.EncodeToString([]byte("b"))
	for _, tc := range []struct {
		name   string
		params map[string]string
	}{
		{"B zero", map[string]string{"USER_ID_FOR_SRP": "u", "SALT": "01", "SRP_B": "00", "SECRET_BLOCK": block}},
		{"B is N", map[string]string{"USER_ID_FOR_SRP": "u", "SALT": "01", "SRP_B": groupNHex, "SECRET_BLOCK": block}},
		{"B not hex", map[string]string{"USER_ID_FOR_SRP": "u", "SALT": "01", "SRP_B": "xyz", "SECRET_BLOCK": block}},
		{"empty salt", map[string]string{"USER_ID_FOR_SRP": "u", "SALT": "", "SRP_B": "05", "SECRET_BLOCK": block}},
		{"no parameters", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &stub{initiate: verifierOutput(tc.params)}
			_, err := stubAuth(t, s).Authorize(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "InvalidChallengeParameter", ae.Code)
			assert.Empty(t, s.resps)
			assert.NotContains(t, err.Error(), "Secret-Pw1!")
		})
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	t.Run("neither tokens nor challenge", func(t *testing.T) {
		_, err := stubAuth(t, &stub{initiate: &cip.InitiateAuthOutput{}}).Authorize(context.Background())
		var ae *authorizer.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Contains(t, err.Error(), "neither tokens nor a challenge")
	})
	t.Run("endless challenges", func(t *testing.T) {
		loop := &cip.RespondToAuthChallengeOutput{ChallengeName: "CUSTOM_CHALLENGE"}
		s := &stub{initiate: &cip.InitiateAuthOutput{ChallengeName: "CUSTOM_CHALLENGE"}, respond: loop}
		_, err := stubAuth(t, s, WithChallengeHandler(func(context.Context, Challenge) (map[string]string, error) {
			return map[string]string{"ANSWER": "x"}, nil
		})).Authorize(context.Background())
		require.ErrorContains(t, err, "too many challenges")
		assert.Len(t, s.resps, maxChallengeRounds)
	})
	t.Run("tokens without an access token", func(t *testing.T) {
		s := &stub{initiate: &cip.InitiateAuthOutput{AuthenticationResult: &types.AuthenticationResultType{}}}
		_, err := stubAuth(t, s).Authorize(context.Background())
		require.ErrorContains(t, err, "no access or ID token")
	})
	t.Run("refresh answered with a challenge", func(t *testing.T) {
		s := &stub{initiate: &cip.InitiateAuthOutput{ChallengeName: "SMS_MFA"}}
		_, err := stubAuth(t, s).Refresh(context.Background(), &oauth2.Token{AccessToken: "x", RefreshToken: "r"})
		var ae *authorizer.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "SMS_MFA", ae.Code)
	})
	t.Run("handler gives an empty answer", func(t *testing.T) {
		s := &stub{initiate: &cip.InitiateAuthOutput{ChallengeName: "SMS_MFA"}}
		_, err := stubAuth(t, s, WithMFAHandler(func(context.Context, string) (string, error) { return "", nil })).Authorize(context.Background())
		var ce *ChallengeError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, errEmptyAnswer)
		assert.Contains(t, err.Error(), "empty answer")
	})
}

func TestClientMetadataAndMissingTokenLifetime(t *testing.T) {
	access := "a.b.c"
	s := &stub{initiate: &cip.InitiateAuthOutput{AuthenticationResult: &types.AuthenticationResultType{AccessToken: &access}}}
	meta := map[string]string{"app": "x"}
	a := stubAuth(t, s, WithClientMetadata(meta))
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, meta, s.inits[0].ClientMetadata)
	assert.Equal(t, int64(data.DefaultTokenLifetime.Seconds()), tok.ExpiresIn, "no ExpiresIn: DefaultTokenLifetime")
	assert.Equal(t, "eu-west-1_P", a.Environment().UserPoolID)
}

func TestRandomFailure(t *testing.T) {
	s := &stub{}
	_, err := stubAuth(t, s, withRandom(strings.NewReader(""))).Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Empty(t, s.inits)
}
