package oauth2auth_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvironmentFromEnv(t *testing.T) {
	t.Setenv("STAGING_ISSUER", "https://idp.staging.example")
	t.Setenv("STAGING_TOKEN_URL", " https://idp.staging.example/oauth2/token ")
	t.Setenv("STAGING_SCOPES", "api:read, api:write")
	t.Setenv("STAGING_AUDIENCE", "https://api.staging.example")
	t.Setenv("STAGING_RESOURCES", "urn:a urn:b")
	t.Setenv("STAGING_PARAMS", "tenant=t1&x=1&x=2")
	env, err := oauth2auth.EnvironmentFromEnv("STAGING")
	require.NoError(t, err)
	assert.Equal(t, oauth2auth.Environment{
		Name:      "staging",
		Issuer:    "https://idp.staging.example",
		TokenURL:  "https://idp.staging.example/oauth2/token",
		Scopes:    []string{"api:read", "api:write"},
		Audience:  "https://api.staging.example",
		Resources: []string{"urn:a", "urn:b"},
		Params:    url.Values{"tenant": {"t1"}, "x": {"1", "2"}},
	}, env)
}

func TestEnvironmentFromEnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		setting string
	}{
		{name: "nothing set", vars: map[string]string{"EMPTYENV_SCOPES": "a"}, setting: "oauth2auth: EMPTYENV_ISSUER"},
		{name: "bad params", vars: map[string]string{"EMPTYENV_TOKEN_URL": "https://idp/t", "EMPTYENV_PARAMS": "a=%zz"},
			setting: "oauth2auth: EMPTYENV_PARAMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.vars {
				t.Setenv(k, v)
			}
			_, err := oauth2auth.EnvironmentFromEnv("EMPTYENV")
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.setting, ce.Setting)
		})
	}
}

func TestClientInfoFromEnv(t *testing.T) {
	t.Setenv("SVC_CLIENT_ID", "id")
	t.Setenv("SVC_CLIENT_SECRET", "secret-value")
	t.Setenv("SVC_API_KEY", "key-value")
	info, err := oauth2auth.ClientInfoFromEnv("SVC")
	require.NoError(t, err)
	assert.Equal(t, data.ClientInfo{ClientID: "id", ClientSecret: "secret-value", APIKey: "key-value"}, info)

	_, err = oauth2auth.ClientInfoFromEnv("NOSUCHSVC")
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "oauth2auth: NOSUCHSVC_CLIENT_ID", ce.Setting)
}

func TestLoadEnvironments(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	good := write("good.json", `{
	  "dev":  {"issuer": "http://127.0.0.1:9010", "scopes": ["api:read"], "resources": ["urn:sdk-test:api"]},
	  "prod": {"name": "Production", "token_url": "https://idp.example.com/oauth2/token", "audience": "https://api.example.com",
	           "params": {"tenant": ["t1"]}}
	}`)
	envs, err := oauth2auth.LoadEnvironments(good)
	require.NoError(t, err)
	require.Len(t, envs, 2)
	assert.Equal(t, "dev", envs["dev"].Name, "name defaults to the key")
	assert.Equal(t, []string{"urn:sdk-test:api"}, envs["dev"].Resources)
	assert.Equal(t, "Production", envs["prod"].Name)
	assert.Equal(t, "t1", envs["prod"].Params.Get("tenant"))

	tests := []struct {
		name, path string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.json")},
		{name: "typo", path: write("typo.json", `{"dev": {"isuer": "https://idp"}}`)},
		{name: "no endpoint", path: write("noendpoint.json", `{"dev": {"scopes": ["a"]}}`)},
		{name: "not json", path: write("bad.json", `dev: {}`)},
		{name: "array", path: write("array.json", `[{"issuer": "https://idp"}]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oauth2auth.LoadEnvironments(tt.path)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Setting, tt.path)
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		name, url string
		allowHTTP bool
		ok        bool
	}{
		{name: "https", url: "https://idp.example/token", ok: true},
		{name: "http loopback v4", url: "http://127.0.0.1:9010/token", ok: true},
		{name: "http loopback v4 range", url: "http://127.1.2.3/token", ok: true},
		{name: "http loopback v6", url: "http://[::1]:80/token", ok: true},
		{name: "http localhost", url: "http://LOCALHOST/token", ok: true},
		{name: "http remote", url: "http://idp.example/token"},
		{name: "http remote allowed", url: "http://idp.example/token", allowHTTP: true, ok: true},
		{name: "http lookalike", url: "http://127.0.0.1.evil.example/token"},
		{name: "relative", url: "/token"},
		{name: "no host", url: "https:///token"},
		{name: "other scheme", url: "ftp://idp.example/token", allowHTTP: true},
		{name: "user info", url: "https://user:pw@idp.example/token"},
		{name: "fragment", url: "https://idp.example/token#x"},
		{name: "garbage", url: "https://[::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := oauth2auth.CheckEndpoint("oauth2auth: X", tt.url, tt.allowHTTP)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "oauth2auth: X", ce.Setting)
			assert.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestTokenParams(t *testing.T) {
	env := oauth2auth.Environment{Scopes: []string{"a", "b"}, Audience: "aud", Resources: []string{"r1", "r2"},
		Params: url.Values{"scope": {"overridden"}, "extra": {"1"}}}
	got := env.TokenParams()
	assert.Equal(t, url.Values{"scope": {"a b"}, "audience": {"aud"}, "resource": {"r1", "r2"}, "extra": {"1"}}, got)
	got.Set("extra", "changed")
	assert.Equal(t, "1", env.Params.Get("extra"), "TokenParams returns a copy")
}

func TestEnvironmentClone(t *testing.T) {
	env := oauth2auth.Environment{Scopes: []string{"a"}, Resources: []string{"r"}, Params: url.Values{"k": {"v"}}}
	c := env.Clone()
	c.Scopes[0], c.Resources[0] = "x", "x"
	c.Params.Set("k", "x")
	assert.Equal(t, "a", env.Scopes[0])
	assert.Equal(t, "r", env.Resources[0])
	assert.Equal(t, "v", env.Params.Get("k"))
}

func TestCognitoEnvironment(t *testing.T) {
	env := oauth2auth.CognitoEnvironment("prod", "my-pool", "eu-west-1", "https://api.example.com/read")
	assert.Equal(t, "prod", env.Name)
	assert.Equal(t, "https://my-pool.auth.eu-west-1.amazoncognito.com/oauth2/token", env.TokenURL)
	assert.Equal(t, "https://my-pool.auth.eu-west-1.amazoncognito.com/oauth2/authorize", env.AuthURL)
	assert.Equal(t, "https://my-pool.auth.eu-west-1.amazoncognito.com/oauth2/revoke", env.RevocationURL)
	assert.Equal(t, []string{"https://api.example.com/read"}, env.Scopes)
	require.NoError(t, env.Validate(false))

	custom := oauth2auth.CognitoEnvironment("prod", "auth.example.com", "", "s")
	assert.Equal(t, "https://auth.example.com/oauth2/token", custom.TokenURL)
	assert.Equal(t, "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", oauth2auth.CognitoIssuer("us-east-1", "us-east-1_abc"))
}
