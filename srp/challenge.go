package srp

import (
	"context"
	"maps"
)

// Challenge is a Cognito challenge passed to a WithChallengeHandler
// handler.
type Challenge struct {
	// Name is the ChallengeName, e.g. "SELECT_MFA_TYPE" or "CUSTOM_CHALLENGE".
	Name string
	// Parameters are the ChallengeParameters Cognito sent (a copy).
	Parameters map[string]string
}

// Challenge names answered by this package or by the specific handlers.
const (
	challengePasswordVerifier = "PASSWORD_VERIFIER"
	challengeNewPassword      = "NEW_PASSWORD_REQUIRED"
	challengeSoftwareToken    = "SOFTWARE_TOKEN_MFA"
	challengeSMS              = "SMS_MFA"
	challengeEmailOTP         = "EMAIL_OTP"
)

// answer returns the ChallengeResponses for one challenge: the password
// claim for PASSWORD_VERIFIER, and the handlers' answers for the others.
// Without a handler the result is a ChallengeError naming the challenge.
func (a *Authorizer) answer(ctx context.Context, st step, state *signInState) (map[string]string, error) {
	switch st.name {
	case challengePasswordVerifier:
		return a.passwordClaim(st.params, state.sess, state.password)
	case challengeNewPassword:
		if h := a.opts.newPassword; h != nil {
			pw, err := h(ctx)
			if err != nil || pw == "" {
				return nil, challengeFailure(st.name, handlerErr(err))
			}
			state.newPassword = pw
			return map[string]string{"NEW_PASSWORD": pw}, nil
		}
	case challengeSoftwareToken, challengeSMS, challengeEmailOTP:
		if h := a.opts.mfa; h != nil {
			code, err := h(ctx, st.name)
			if err != nil || code == "" {
				return nil, challengeFailure(st.name, handlerErr(err))
			}
			return map[string]string{st.name + "_CODE": code}, nil
		}
	}
	if h := a.opts.challenge; h != nil {
		ans, err := h(ctx, Challenge{Name: st.name, Parameters: maps.Clone(st.params)})
		if err != nil || ans == nil {
			return nil, challengeFailure(st.name, handlerErr(err))
		}
		return maps.Clone(ans), nil
	}
	return nil, challengeFailure(st.name, nil)
}

// errEmptyAnswer is the cause when a handler returned neither an answer
// nor an error.
var errEmptyAnswer = &emptyAnswerError{}

type emptyAnswerError struct{}

func (*emptyAnswerError) Error() string { return "handler returned an empty answer" }

func handlerErr(err error) error {
	if err == nil {
		return errEmptyAnswer
	}
	return err
}

// passwordClaim answers PASSWORD_VERIFIER: it checks the server's values
// and signs the claim at the Authorizer's clock.
func (a *Authorizer) passwordClaim(p map[string]string, sess *clientSession, password string) (map[string]string, error) {
	c, err := parseVerifierChallenge(p)
	if err != nil {
		return nil, err
	}
	key, err := sess.passwordKey(a.poolName, c.userID, password, c.bigB, c.salt)
	if err != nil {
		return nil, paramError("SRP_B", "gives an unusable session key")
	}
	ts := formatTimestamp(a.opts.now())
	return map[string]string{
		"USERNAME":                    c.userName,
		"TIMESTAMP":                   ts,
		"PASSWORD_CLAIM_SECRET_BLOCK": c.secretBlockB64,
		"PASSWORD_CLAIM_SIGNATURE":    claimSignature(key, a.poolName, c.userID, c.secretBlock, ts),
	}, nil
}
