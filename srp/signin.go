package srp

import (
	"context"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	authorizer "github.com/seed-d44eba79/authorizer"
)

const (
	userSRPAuth      = types.AuthFlowTypeUserSrpAuth
	refreshTokenAuth = types.AuthFlowTypeRefreshTokenAuth
)

// maxChallengeRounds bounds the RespondToAuthChallenge calls of one
// sign-in (PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED, an MFA code and some
// slack), so that a server looping on challenges cannot keep it forever.
const maxChallengeRounds = 6

// step is where a sign-in stands: either tokens, or a challenge to answer.
type step struct {
	result  *types.AuthenticationResultType
	name    string
	params  map[string]string
	session *string
}

// signInState is what one sign-in carries from challenge to challenge.
type signInState struct {
	sess        *clientSession
	password    string
	canonical   string // the user name Cognito knows the user by
	newPassword string // set when NEW_PASSWORD_REQUIRED was answered
}

// signIn runs USER_SRP_AUTH and answers the challenges until Cognito
// returns tokens.
func (a *Authorizer) signIn(ctx context.Context, password string) (*types.AuthenticationResultType, *signInState, error) {
	sess, err := newClientSession(a.opts.random)
	if err != nil {
		return nil, nil, &authorizer.AuthorizationError{Message: "srp: cannot draw the SRP secret", Err: err}
	}
	params := map[string]string{"USERNAME": a.userName, "SRP_A": sess.srpA()}
	if a.info.ClientSecret != "" {
		params["SECRET_HASH"] = secretHash(a.info.ClientSecret, a.userName, a.info.ClientID)
	}
	out, err := a.cognito.InitiateAuth(ctx, a.initiateInput(userSRPAuth, params))
	if err != nil {
		return nil, nil, mapError(err, phaseSignIn, a.info.ClientID, a.userName, a.sentSecrets(params, password))
	}
	st := step{out.AuthenticationResult, string(out.ChallengeName), out.ChallengeParameters, out.Session}
	state := &signInState{sess: sess, password: password, canonical: a.userName}
	for range maxChallengeRounds {
		if st.result != nil {
			return st.result, state, nil
		}
		if st.name == "" {
			return nil, nil, unexpected("Cognito answered with neither tokens nor a challenge", "")
		}
		if st, err = a.respond(ctx, st, state); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, unexpected("too many challenges", st.name)
}

// respond answers one challenge and returns the next step.
func (a *Authorizer) respond(ctx context.Context, st step, state *signInState) (step, error) {
	if u := st.params["USERNAME"]; u != "" {
		state.canonical = u
	}
	answers, err := a.answer(ctx, st, state)
	if err != nil {
		return step{}, err
	}
	if u := answers["USERNAME"]; u != "" {
		state.canonical = u // PASSWORD_VERIFIER: USERNAME or USER_ID_FOR_SRP
	} else {
		answers["USERNAME"] = state.canonical
	}
	if _, ok := answers["SECRET_HASH"]; !ok && a.info.ClientSecret != "" {
		answers["SECRET_HASH"] = secretHash(a.info.ClientSecret, state.canonical, a.info.ClientID)
	}
	out, err := a.cognito.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:           &a.info.ClientID,
		ChallengeName:      types.ChallengeNameType(st.name),
		ChallengeResponses: answers,
		Session:            st.session,
		ClientMetadata:     a.opts.clientMeta,
	})
	if err != nil {
		return step{}, mapError(err, phaseSignIn, a.info.ClientID, a.userName, a.sentSecrets(answers, state.password))
	}
	return step{out.AuthenticationResult, string(out.ChallengeName), out.ChallengeParameters, out.Session}, nil
}

func (a *Authorizer) initiateInput(flow types.AuthFlowType, params map[string]string) *cip.InitiateAuthInput {
	return &cip.InitiateAuthInput{
		AuthFlow:       flow,
		ClientId:       &a.info.ClientID,
		AuthParameters: params,
		ClientMetadata: a.opts.clientMeta,
	}
}

// unexpected reports an answer from Cognito this package cannot use.
func unexpected(what, challenge string) error {
	return &authorizer.AuthorizationError{Message: "srp: unexpected answer from Cognito: " + what, Code: challenge}
}
