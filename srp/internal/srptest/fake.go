package srptest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// User is a user of the fake pool.
type User struct {
	Password    string
	Aliases     []string // other names that sign in (e.g. an email)
	Disabled    bool
	ForceChange bool   // answer the password claim with NEW_PASSWORD_REQUIRED
	MFA         string // "SOFTWARE_TOKEN_MFA" or "SMS_MFA": ask for MFACode
	MFACode     string
	Custom      string // a further challenge name, answered by ANSWER=Custom
	DeviceKey   string // returned as NewDeviceMetadata
}

// Call is one recorded call to the fake.
type Call struct {
	Op        string // "InitiateAuth" or "RespondToAuthChallenge"
	Flow      string // AuthFlow or ChallengeName
	ClientID  string
	Params    map[string]string
	ClientMet map[string]string
}

// Fake is an in-memory Cognito user pool implementing srp.CognitoClient.
// It checks what real Cognito checks (SECRET_HASH over the name sent, the
// SRP proof, the TIMESTAMP against its clock) and counts calls.
type Fake struct {
	PoolName     string
	ClientID     string
	ClientSecret string
	Now          func() time.Time // the server clock; time.Now when nil
	ExpiresIn    int32            // token lifetime; 3600 when 0
	// Fail, when set, is consulted before every call; a non-nil error is
	// returned as is.
	Fail func(c Call) error

	mu       sync.Mutex // guards all below
	users    map[string]*User
	verifier map[string]*Verifier // canonical name -> verifier
	sessions map[string]*session  // Session -> state
	refresh  map[string]string    // refresh token -> canonical name
	calls    []Call
}

type session struct {
	user     string
	exchange *Exchange
	next     string // the challenge this session waits for
}

// NewFake returns a fake pool of users keyed by canonical name.
func NewFake(poolName, clientID, clientSecret string, users map[string]*User) *Fake {
	f := &Fake{PoolName: poolName, ClientID: clientID, ClientSecret: clientSecret,
		users: users, verifier: map[string]*Verifier{}, sessions: map[string]*session{}, refresh: map[string]string{}}
	for name, u := range users {
		f.verifier[name] = NewVerifier(poolName, name, u.Password)
	}
	return f
}

// Calls returns the calls so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Count returns how many calls had op and flow (AuthFlow or ChallengeName).
func (f *Fake) Count(op, flow string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Op == op && c.Flow == flow {
			n++
		}
	}
	return n
}

// Revoke forgets every refresh token.
func (f *Fake) Revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.refresh)
}

// Password returns a user's current password (after NEW_PASSWORD_REQUIRED).
func (f *Fake) Password(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[name].Password
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// InitiateAuth implements srp.CognitoClient.
func (f *Fake) InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, _ ...func(*cip.Options)) (*cip.InitiateAuthOutput, error) {
	c := Call{Op: "InitiateAuth", Flow: string(in.AuthFlow), ClientID: aws.ToString(in.ClientId), Params: in.AuthParameters, ClientMet: in.ClientMetadata}
	if err := f.begin(ctx, c); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch in.AuthFlow {
	case types.AuthFlowTypeUserSrpAuth:
		return f.startSRP(in.AuthParameters)
	case types.AuthFlowTypeRefreshTokenAuth:
		return f.refreshTokens(in.AuthParameters)
	}
	return nil, apiError(400, &types.InvalidParameterException{Message: aws.String("unsupported flow")})
}

// begin records c and applies the client check and Fail.
func (f *Fake) begin(ctx context.Context, c Call) error {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.Fail != nil {
		if err := f.Fail(c); err != nil {
			return err
		}
	}
	if c.ClientID != f.ClientID {
		return apiError(400, &types.ResourceNotFoundException{Message: aws.String(c.ClientID)})
	}
	return nil
}

func (f *Fake) startSRP(p map[string]string) (*cip.InitiateAuthOutput, error) {
	name, ok := f.resolve(p["USERNAME"])
	if !ok {
		return nil, apiError(400, &types.UserNotFoundException{Message: aws.String("User does not exist.")})
	}
	if err := f.checkSecretHash(p, p["USERNAME"]); err != nil {
		return nil, err
	}
	if f.users[name].Disabled {
		return nil, apiError(400, &types.NotAuthorizedException{Message: aws.String("User is disabled.")})
	}
	x, err := f.verifier[name].Begin(p["SRP_A"])
	if err != nil {
		return nil, apiError(400, &types.InvalidParameterException{Message: aws.String(err.Error())})
	}
	id := f.newSession(&session{user: name, exchange: x, next: "PASSWORD_VERIFIER"})
	return &cip.InitiateAuthOutput{ChallengeName: "PASSWORD_VERIFIER", ChallengeParameters: x.Params(), Session: &id}, nil
}

func (f *Fake) refreshTokens(p map[string]string) (*cip.InitiateAuthOutput, error) {
	name, ok := f.refresh[p["REFRESH_TOKEN"]]
	if !ok {
		return nil, apiError(400, &types.NotAuthorizedException{Message: aws.String("Refresh Token has been revoked")})
	}
	if err := f.checkSecretHash(p, name); err != nil {
		return nil, err
	}
	if dk := f.users[name].DeviceKey; dk != "" && p["DEVICE_KEY"] != dk {
		return nil, apiError(400, &types.NotAuthorizedException{Message: aws.String("Invalid device key given.")})
	}
	res := f.tokens(name, false)
	return &cip.InitiateAuthOutput{AuthenticationResult: res}, nil
}

// RespondToAuthChallenge implements srp.CognitoClient.
func (f *Fake) RespondToAuthChallenge(ctx context.Context, in *cip.RespondToAuthChallengeInput, _ ...func(*cip.Options)) (*cip.RespondToAuthChallengeOutput, error) {
	c := Call{Op: "RespondToAuthChallenge", Flow: string(in.ChallengeName), ClientID: aws.ToString(in.ClientId), Params: in.ChallengeResponses, ClientMet: in.ClientMetadata}
	if err := f.begin(ctx, c); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[aws.ToString(in.Session)]
	if !ok || s.next != string(in.ChallengeName) {
		return nil, apiError(400, &types.NotAuthorizedException{Message: aws.String("Invalid session for the user.")})
	}
	delete(f.sessions, aws.ToString(in.Session))
	r := in.ChallengeResponses
	if r["USERNAME"] != s.user {
		return nil, apiError(400, &types.NotAuthorizedException{Message: aws.String("Incorrect username or password.")})
	}
	if err := f.checkSecretHash(r, s.user); err != nil {
		return nil, err
	}
	if err := f.checkAnswer(s, r); err != nil {
		return nil, err
	}
	return f.after(s), nil
}

func (f *Fake) checkAnswer(s *session, r map[string]string) error {
	u := f.users[s.user]
	switch s.next {
	case "PASSWORD_VERIFIER":
		if s.exchange.Verify(r, f.now()) != nil {
			return apiError(400, &types.NotAuthorizedException{Message: aws.String("Incorrect username or password.")})
		}
	case "NEW_PASSWORD_REQUIRED":
		if len(r["NEW_PASSWORD"]) < 8 {
			return apiError(400, &types.InvalidPasswordException{Message: aws.String("Password does not conform to policy")})
		}
		u.Password, u.ForceChange = r["NEW_PASSWORD"], false
		f.verifier[s.user] = NewVerifier(f.PoolName, s.user, u.Password)
	case u.MFA:
		if r[u.MFA+"_CODE"] != u.MFACode {
			return apiError(400, &types.CodeMismatchException{Message: aws.String("Invalid code received for user")})
		}
		s.exchange = nil // MFA done
	case u.Custom:
		if r["ANSWER"] != u.Custom {
			return apiError(400, &types.NotAuthorizedException{Message: aws.String("Incorrect username or password.")})
		}
	}
	return nil
}

// after picks the next challenge for s, or the tokens.
func (f *Fake) after(s *session) *cip.RespondToAuthChallengeOutput {
	u := f.users[s.user]
	next := ""
	switch {
	case s.next == "PASSWORD_VERIFIER" && u.ForceChange:
		next = "NEW_PASSWORD_REQUIRED"
	case (s.next == "PASSWORD_VERIFIER" || s.next == "NEW_PASSWORD_REQUIRED") && u.MFA != "":
		next = u.MFA
	case s.next != u.Custom && u.Custom != "":
		next = u.Custom
	}
	if next == "" {
		return &cip.RespondToAuthChallengeOutput{AuthenticationResult: f.tokens(s.user, true)}
	}
	id := f.newSession(&session{user: s.user, next: next})
	return &cip.RespondToAuthChallengeOutput{ChallengeName: types.ChallengeNameType(next),
		ChallengeParameters: map[string]string{"USERNAME": s.user}, Session: &id}
}

func (f *Fake) newSession(s *session) string {
	id := randomID()
	f.sessions[id] = s
	return id
}

// resolve maps a user name or alias to the canonical name.
func (f *Fake) resolve(name string) (string, bool) {
	if _, ok := f.users[name]; ok {
		return name, true
	}
	for canonical, u := range f.users {
		for _, a := range u.Aliases {
			if a == name {
				return canonical, true
			}
		}
	}
	return "", false
}

func (f *Fake) checkSecretHash(p map[string]string, name string) error {
	if f.ClientSecret == "" {
		return nil
	}
	if p["SECRET_HASH"] != SecretHash(f.ClientSecret, name, f.ClientID) {
		return apiError(400, &types.NotAuthorizedException{Message: aws.String("Client " + f.ClientID + " is configured with secret but SECRET_HASH was not received or is wrong")})
	}
	return nil
}

// tokens issues fake JWTs for name, and a refresh token on sign-in.
func (f *Fake) tokens(name string, signIn bool) *types.AuthenticationResultType {
	exp := f.ExpiresIn
	if exp == 0 {
		exp = 3600
	}
	res := &types.AuthenticationResultType{
		AccessToken: aws.String(FakeJWT(map[string]any{"username": name, "token_use": "access", "jti": randomID()})),
		IdToken:     aws.String(FakeJWT(map[string]any{"cognito:username": name, "token_use": "id", "jti": randomID()})),
		ExpiresIn:   exp,
		TokenType:   aws.String("Bearer"),
	}
	if signIn {
		rt := "rt-" + randomID()
		f.refresh[rt] = name
		res.RefreshToken = &rt
		if dk := f.users[name].DeviceKey; dk != "" {
			res.NewDeviceMetadata = &types.NewDeviceMetadataType{DeviceKey: aws.String(dk), DeviceGroupKey: aws.String("group")}
		}
	}
	return res
}

// SecretHash is Cognito's SECRET_HASH, computed independently of package srp.
func SecretHash(secret, user, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(user + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FakeJWT returns an unsigned JWT-shaped string with the given claims.
func FakeJWT(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(b) + ".sig"
}

// ClaimsOf decodes the claims of a FakeJWT (or any JWT) without verifying.
func ClaimsOf(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// APIError wraps a Cognito exception as the SDK returns it: inside an HTTP
// response error with the given status.
func APIError(status int, err error) error { return apiError(status, err) }

func apiError(status int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
}
