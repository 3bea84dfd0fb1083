package srp_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewAuthorizerValidates(t *testing.T) {
	info := data.ClientInfo{ClientID: testClientID}
	creds := data.UserCredentials{UserName: "alice", Password: alicePass}
	env := func(mod func(*srp.Environment)) srp.Environment {
		e := testEnv
		mod(&e)
		return e
	}
	for _, tc := range []struct {
		name    string
		info    data.ClientInfo
		creds   data.UserCredentials
		env     srp.Environment
		opts    []srp.Option
		setting string // "" when valid
	}{
		{name: "valid", info: info, creds: creds, env: testEnv},
		{name: "missing client id", creds: creds, env: testEnv, setting: "srp: ClientInfo.ClientID"},
		{name: "missing user name", info: info, creds: data.UserCredentials{Password: "x"}, env: testEnv, setting: "srp: UserCredentials.UserName"},
		{name: "missing password", info: info, creds: data.UserCredentials{UserName: "alice"}, env: testEnv, setting: "srp: UserCredentials.Password"},
		{name: "missing region", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Region = "" }), setting: "srp: Environment.Region"},
		{name: "missing pool id", info: info, creds: creds, env: env(func(e *srp.Environment) { e.UserPoolID = "" }), setting: "srp: Environment.UserPoolID"},
		{name: "pool id without region", info: info, creds: creds, env: env(func(e *srp.Environment) { e.UserPoolID = "AbCdEf123" }), setting: "srp: Environment.UserPoolID"},
		{name: "pool id with empty id", info: info, creds: creds, env: env(func(e *srp.Environment) { e.UserPoolID = "eu-west-1_" }), setting: "srp: Environment.UserPoolID"},
		{name: "pool id in another region", info: info, creds: creds, env: env(func(e *srp.Environment) { e.UserPoolID = "us-east-1_AbC" }), setting: "srp: Environment.UserPoolID"},
		{name: "endpoint not a URL", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "cognito.local" }), setting: "srp: Environment.Endpoint"},
		{name: "plain http to a remote host", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "http://cognito.example.com" }), setting: "srp: Environment.Endpoint"},
		{name: "plain http to a remote host, insecure", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "http://cognito.example.com" }), opts: []srp.Option{srp.InsecureAllowHTTP()}},
		{name: "plain http to loopback", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "http://127.0.0.1:9020" })},
		{name: "plain http to localhost", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "http://localhost:9020" })},
		{name: "https", info: info, creds: creds, env: env(func(e *srp.Environment) { e.Endpoint = "https://vpce-1.cognito-idp.eu-west-1.vpce.amazonaws.com" })},
		{name: "nil clock means time.Now", info: info, creds: creds, env: testEnv, opts: []srp.Option{srp.WithClock(nil)}},
		{name: "nil Cognito client means the default", info: info, creds: creds, env: testEnv, opts: []srp.Option{srp.WithCognitoClient(nil)}},
		{name: "nil HTTP client with a Cognito client", info: info, creds: creds, env: testEnv,
			opts: []srp.Option{srp.WithCognitoClient(pool("")), srp.WithHTTPClient(nil)}},
		{name: "nil handlers and metadata", info: info, creds: creds, env: testEnv, opts: []srp.Option{
			srp.WithNewPasswordHandler(nil), srp.WithMFAHandler(nil), srp.WithChallengeHandler(nil), srp.WithClientMetadata(nil), nil}},
		{name: "HTTP client with a Cognito client", info: info, creds: creds, env: testEnv,
			opts: []srp.Option{srp.WithCognitoClient(pool("")), srp.WithHTTPClient(&http.Client{})}, setting: "srp: WithHTTPClient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := srp.NewAuthorizer(tc.info, tc.creds, tc.env, tc.opts...)
			if tc.setting == "" {
				require.NoError(t, err)
				require.NotNil(t, a)
				return
			}
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.setting, ce.Setting)
			assert.NotContains(t, err.Error(), alicePass)
		})
	}
}

// TestNilClockMeansTimeNow: nil for an optional dependency is its
// documented default.
func TestNilClockMeansTimeNow(t *testing.T) {
	f := pool(testSecret)
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: testClientID, ClientSecret: testSecret},
		data.UserCredentials{UserName: "alice", Password: alicePass}, testEnv, srp.WithCognitoClient(f), srp.WithClock(nil))
	require.NoError(t, err)
	before := time.Now()
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.WithinDuration(t, before.Add(time.Hour), tok.Expiry, 10*time.Minute, "expiry at time.Now + ExpiresIn")
}

func TestEnvironmentFromEnv(t *testing.T) {
	t.Setenv("MYAPP_NAME", "dev")
	t.Setenv("MYAPP_USER_POOL_ID", " eu-west-1_AbC ")
	t.Setenv("MYAPP_ENDPOINT", "http://127.0.0.1:9020")
	got, err := srp.EnvironmentFromEnv("MYAPP")
	require.NoError(t, err)
	assert.Equal(t, srp.Environment{Name: "dev", Region: "eu-west-1", UserPoolID: "eu-west-1_AbC", Endpoint: "http://127.0.0.1:9020"}, got)
	t.Setenv("MYAPP_REGION", "eu-west-2")
	got, err = srp.EnvironmentFromEnv("MYAPP")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-2", got.Region)

	t.Setenv("MYAPP_NAME", "")
	got, err = srp.EnvironmentFromEnv("MYAPP")
	require.NoError(t, err)
	assert.Equal(t, "myapp", got.Name, "the name defaults to the prefix, as in oauth2auth")

	// Same shape as oauth2auth.EnvironmentFromEnv: a missing required
	// variable is an error naming it.
	_, err = srp.EnvironmentFromEnv("NOTSET")
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "srp: NOTSET_USER_POOL_ID", ce.Setting)
	if runtime.GOOS != "windows" { // whose variable names ignore case
		_, err = srp.EnvironmentFromEnv("myapp")
		require.ErrorAs(t, err, &ce, "the prefix is case-sensitive")
	}
}

func TestLoadEnvironments(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "envs.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
		"dev":  {"region": "eu-west-1", "user_pool_id": "eu-west-1_Dev", "endpoint": "http://127.0.0.1:9020"},
		"prod": {"name": "production", "region": "eu-west-1", "user_pool_id": "eu-west-1_Prod"}
	}`), 0o600))
	envs, err := srp.LoadEnvironments(path)
	require.NoError(t, err)
	assert.Equal(t, srp.Environment{Name: "dev", Region: "eu-west-1", UserPoolID: "eu-west-1_Dev", Endpoint: "http://127.0.0.1:9020"}, envs["dev"])
	assert.Equal(t, "production", envs["prod"].Name)

	for _, tc := range []struct{ name, content string }{
		{"not json", "{"},
		{"a list", `[{"region": "eu-west-1"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.json")
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
			_, err := srp.LoadEnvironments(p)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
		})
	}
	_, err = srp.LoadEnvironments(filepath.Join(dir, "missing.json"))
	var ce *authorizer.InvalidConfigError
	require.True(t, errors.As(err, &ce))
}

// TestInsecureHintNamesThePackage: three packages export an
// InsecureAllowHTTP; the error says which one.
func TestInsecureHintNamesThePackage(t *testing.T) {
	env := testEnv
	env.Endpoint = "http://cognito.example.com"
	_, err := srp.NewAuthorizer(data.ClientInfo{ClientID: testClientID},
		data.UserCredentials{UserName: "alice", Password: alicePass}, env)
	require.ErrorContains(t, err, "see srp.InsecureAllowHTTP")
}
