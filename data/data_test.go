package data_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secret   = "s3cr3t-value"
	apiKey   = "api-key-value"
	password = "hunter2-password"
)

// renderings returns every way a user might print v.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "v", v)
	var textBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&textBuf, nil)).Info("x", "v", v)
	return map[string]string{
		"%v": fmt.Sprintf("%v", v), "%+v": fmt.Sprintf("%+v", v), "%#v": fmt.Sprintf("%#v", v),
		"%s": fmt.Sprintf("%s", v), "%q": fmt.Sprintf("%q", v), "Sprint": fmt.Sprint(v),
		"json":      string(js),
		"slog json": logBuf.String(), "slog text": textBuf.String(),
		"in struct %+v": fmt.Sprintf("%+v", struct{ V any }{v}),
	}
}

func TestSecretsAreRedactedEverywhere(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		visible string
		hidden  []string
	}{
		{name: "client info", value: data.ClientInfo{ClientID: "svc-client", ClientSecret: secret, APIKey: apiKey},
			visible: "svc-client", hidden: []string{secret, apiKey}},
		{name: "user credentials", value: data.UserCredentials{UserName: "alice", Password: password},
			visible: "alice", hidden: []string{password}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, out := range renderings(t, tt.value) {
				for _, h := range tt.hidden {
					assert.NotContains(t, out, h, how)
				}
				assert.Contains(t, out, tt.visible, how)
			}
		})
	}
}

func TestPointersAreRedactedToo(t *testing.T) {
	c := &data.ClientInfo{ClientID: "svc", ClientSecret: secret}
	u := &data.UserCredentials{UserName: "alice", Password: password}
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v %+v %#v", u, u, u)} {
		assert.NotContains(t, out, secret)
		assert.NotContains(t, out, password)
	}
}

func TestRedactionTellsWhetherSecretIsSet(t *testing.T) {
	assert.Contains(t, fmt.Sprint(data.ClientInfo{ClientID: "a", ClientSecret: "x"}), data.Redacted)
	assert.NotContains(t, fmt.Sprint(data.ClientInfo{ClientID: "a"}), data.Redacted)
}

func TestClientInfoUnmarshalReadsRealValues(t *testing.T) {
	var c data.ClientInfo
	require.NoError(t, json.Unmarshal([]byte(`{"client_id":"id","client_secret":"sec","api_key":"k"}`), &c))
	assert.Equal(t, data.ClientInfo{ClientID: "id", ClientSecret: "sec", APIKey: "k"}, c)
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
func TestBasicAuthEncodesReservedCharacters(t *testing.T) {
	c := data.ClientInfo{ClientID: "my client", ClientSecret: "s:e/c+r&e=t% x"}
	req, _ := http.NewRequest(http.MethodPost, "https://idp.example.test/token", nil)
	req.SetBasicAuth(c.BasicAuth())
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.Header.Get("Authorization"), "Basic "))
	require.NoError(t, err)
	id, sec, ok := strings.Cut(string(raw), ":")
	require.True(t, ok)
	assert.Equal(t, "my+client", id)
	assert.NotContains(t, sec, ":")
	decoded, err := url.QueryUnescape(sec)
	require.NoError(t, err)
	assert.Equal(t, c.ClientSecret, decoded)
}

func TestEffectiveGap(t *testing.T) {
	tests := []struct {
		name     string
		lifetime string
		want     string
	}{
		{name: "unknown lifetime", lifetime: "0s", want: "30s"},
		{name: "hour", lifetime: "1h", want: "30s"},
		{name: "five seconds", lifetime: "5s", want: "1.25s"},
		{name: "two minutes", lifetime: "2m", want: "30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, data.EffectiveGap(mustDuration(t, tt.lifetime)).String())
		})
	}
}

func TestFingerprint(t *testing.T) {
	fp := data.Fingerprint("eyJhbGciOi.secret.token")
	assert.Regexp(t, `^sha256:[0-9a-f]{8}$`, fp)
	assert.NotContains(t, fp, "secret")
	assert.Equal(t, fp, data.Fingerprint("eyJhbGciOi.secret.token"))
	assert.Empty(t, data.Fingerprint(""))
}

func ExampleClientInfo() {
	info := data.ClientInfo{ClientID: "orders-service", ClientSecret: "do-not-print", APIKey: "nor-this"}
	fmt.Println(info)
	// Output: {ClientID:orders-service ClientSecret:REDACTED APIKey:REDACTED}
}

func ExampleUserCredentials() {
	creds := data.UserCredentials{UserName: "alice", Password: "correct horse"}
	fmt.Printf("%#v\n", creds)
	// Output: data.UserCredentials{UserName:alice Password:REDACTED}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	require.NoError(t, err)
	return d
}
