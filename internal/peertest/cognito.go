package peertest

import (
	"encoding/json"
	"os"
	"testing"
)

// CognitoSeed is what scripts/peers/moto/seed.py prints: the moto_server
// endpoint, the user pool, its app clients and users. Test values only.
type CognitoSeed struct {
	Endpoint   string                       `json:"endpoint"`
	Region     string                       `json:"region"`
	UserPoolID string                       `json:"userPoolId"`
	Issuer     string                       `json:"issuer"`
	JWKSURL    string                       `json:"jwksUrl"`
	Clients    map[string]CognitoSeedClient `json:"clients"`
	Users      map[string]CognitoSeedUser   `json:"users"`
}

// CognitoSeedClient is an app client: "sdk-public" has no secret,
// "sdk-confidential" has one.
type CognitoSeedClient struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// CognitoSeedUser is a seeded user: alice and bob are CONFIRMED, frank is
// FORCE_CHANGE_PASSWORD, dave is disabled.
type CognitoSeedUser struct {
	Password string `json:"password"`
	Status   string `json:"status"`
	Enabled  bool   `json:"enabled"`
	Sub      string `json:"sub"`
}

// Cognito reads the seed file named by the environment variable name
// (AUTHORIZER_COGNITO_SEED), skipping t as Env does when it is unset, and
// failing t when the file is unreadable or incomplete.
func Cognito(t testing.TB, name string) CognitoSeed {
	t.Helper()
	path := Env(t, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var s CognitoSeed
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %s is not seed.py output: %v", name, path, err)
	}
	if s.Endpoint == "" || s.UserPoolID == "" || len(s.Clients) == 0 || len(s.Users) == 0 {
		t.Fatalf("%s: %s lacks endpoint, userPoolId, clients or users", name, path)
	}
	return s
}
