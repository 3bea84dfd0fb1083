package oauth2auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pemKey(t testing.TB, typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePrivateKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pk8, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	bad384, _ := x509.MarshalECPrivateKey(p384)
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"pkcs8 ec", pemKey(t, "PRIVATE KEY", pk8), true},
		{"sec1", pemKey(t, "EC PRIVATE KEY", sec1), true},
		{"pkcs1", pemKey(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), true},
		{"p384 refused", pemKey(t, "EC PRIVATE KEY", bad384), false},
		{"certificate", pemKey(t, "CERTIFICATE", []byte{1, 2}), false},
		{"garbage der", pemKey(t, "PRIVATE KEY", []byte("SECRET-ish bytes")), false},
		{"not pem", []byte("SECRET-ish"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parsePrivateKey(tt.in)
			if tt.ok {
				require.NoError(t, err)
				assert.NotNil(t, k)
				return
			}
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "SECRET")
		})
	}
}

// Issue 17 item 4: Environment.ClientAuth and its key file are checked by
// the constructors; a conflict with an option is an error, not a choice.
func TestEnvironmentClientAuthErrors(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	good := filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(good, pemKey(t, "PRIVATE KEY", der), 0o600))
	base := Environment{Name: "x", TokenURL: "https://idp.example/token"}
	tests := []struct {
		name, auth, file, setting string
		opts                      []Option
	}{
		{"unknown", "magic", "", `oauth2auth: Environment "x".ClientAuth`, nil},
		{"jwt without file", "private_key_jwt", "", `oauth2auth: Environment "x".ClientKeyFile`, nil},
		{"missing file", "private_key_jwt", filepath.Join(dir, "nope"), `oauth2auth: Environment "x".ClientKeyFile`, nil},
		{"file without jwt", "basic", good, `oauth2auth: Environment "x".ClientKeyFile`, nil},
		{"file alone", "", good, `oauth2auth: Environment "x".ClientKeyFile`, nil},
		{"and an option", "post", "", `oauth2auth: Environment "x".ClientAuth`, []Option{WithClientAuth(ClientSecretBasic)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := base
			env.ClientAuth, env.ClientKeyFile = tt.auth, tt.file
			_, err := NewServiceAccountAuthorizer(optSecret, env, tt.opts...)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.setting, ce.Setting)
		})
	}
	env := base
	env.ClientAuth, env.ClientKeyFile = "private_key_jwt", good
	a, err := NewServiceAccountAuthorizer(optSecret, env)
	require.NoError(t, err)
	assert.Equal(t, PrivateKeyJWT, a.opts.auth)

	t.Setenv("BADAUTH_TOKEN_URL", "https://idp.example/token")
	t.Setenv("BADAUTH_CLIENT_AUTH", "magic")
	_, err = EnvironmentFromEnv("BADAUTH")
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "oauth2auth: BADAUTH_CLIENT_AUTH", ce.Setting)
	_, err = EnvironmentFromEnv("badauth")
	require.Error(t, err, "the prefix is case-sensitive: badauth_TOKEN_URL is unset")
	assert.True(t, strings.Contains(err.Error(), "badauth_ISSUER"))
}

func FuzzParsePrivateKey(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	f.Add(pemKey(f, "PRIVATE KEY", der))
	f.Add(pemKey(f, "EC PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x01}))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parsePrivateKey(b)
		if (k == nil) == (err == nil) {
			t.Fatalf("got key %v and error %v", k, err)
		}
	})
}
