package srp

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// CognitoClient is the part of the Cognito user pools API the Authorizer
// calls, shaped like the methods of
// *cognitoidentityprovider.Client (which implements it), so that tests can
// inject a fake with WithCognitoClient.
//
// Implementations must be safe for concurrent use and must honour ctx.
type CognitoClient interface {
	InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, optFns ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
	RespondToAuthChallenge(ctx context.Context, in *cip.RespondToAuthChallengeInput, optFns ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error)
}

var _ CognitoClient = (*cip.Client)(nil)

// DefaultHTTPTimeout bounds one call to Cognito made with the default HTTP
// client (see WithHTTPClient).
const DefaultHTTPTimeout = 30 * time.Second

// newSDKClient builds the aws-sdk-go-v2 client for env.
//
// Credentials are anonymous: InitiateAuth and RespondToAuthChallenge are
// unsigned calls, authorized by the app client id (and SECRET_HASH).
//
// The SDK's retries are off but for one case (lostConnRetryer: a
// connection that died under the call is tried once more): [base.Transport]
// already backs off after a failed token request (with Retry-After and
// jitter), and the SDK's own three attempts would multiply each token
// request silently. Worse, a retried RespondToAuthChallenge after a refusal
// repeats a password claim, and Cognito locks accounts after repeated
// failures.
func newSDKClient(env Environment, hc *http.Client) *cip.Client {
	o := cip.Options{
		Region:      env.Region,
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  hc,
		Retryer:     lostConnRetryer{},
	}
	if env.Endpoint != "" {
		o.BaseEndpoint = aws.String(env.Endpoint)
	}
	return cip.New(o)
}
