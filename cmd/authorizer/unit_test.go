package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

func TestParseConfig(t *testing.T) {
	envs, err := parseConfig([]byte(`{"dev": {"flow": "device", "issuer": "https://idp.example.com",
		"client_id": "cli", "scopes": ["openid"]},
		"pool": {"region": "eu-west-1", "user_pool_id": "eu-west-1_abc", "client_id": "x", "username": "u", "password_file": "/p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := envs["dev"]; d.Flow != flowDevice || d.OAuth.Issuer != "https://idp.example.com" || d.OAuth.Name != "dev" || d.ClientID != "cli" {
		t.Errorf("dev = %+v", d)
	}
	if p := envs["pool"]; p.Flow != flowSRP || p.SRP.UserPoolID != "eu-west-1_abc" || p.PasswordFile != "/p" {
		t.Errorf("pool = %+v", p)
	}
	for _, bad := range []string{
		`{"x": {"issuer": "https://a", "client_id": "c", "isuer": "typo"}}`,
		`{"x": {"issuer": "https://a"}}`,
		`{"x": {"issuer": "https://a", "client_id": "c", "flow": "password"}}`,
		`{"x": {"issuer": "https://a", "client_id": 7}}`,
		`[1]`,
	} {
		_, err := parseConfig([]byte(bad))
		var ice *authorizer.InvalidConfigError
		if !errors.As(err, &ice) {
			t.Errorf("%s: err %v, want an InvalidConfigError", bad, err)
		}
	}
}

func TestExitCodeMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		tag  string
	}{
		{&authorizer.InvalidConfigError{Setting: "s", Problem: "p"}, exitConfig, "invalid_config"},
		{fmt.Errorf("w: %w", &authorizer.InvalidClientError{ClientID: "c", Code: "invalid_client"}), exitClient, "invalid_client"},
		{&authorizer.InvalidCredentialsError{UserName: "u"}, exitCredentials, "invalid_grant"},
		{&authorizer.AuthorizationError{StatusCode: 503}, exitTemporary, "temporarily_unavailable"},
		{&authorizer.AuthorizationError{StatusCode: 400, Code: "invalid_scope"}, exitFailed, "invalid_scope"},
		{usageError("u"), exitUsage, ""},
		{errors.New("x"), exitFailed, ""},
		{fmt.Errorf("w: %w", signalError{syscall.SIGINT}), 130, ""},
		{signalError{syscall.SIGTERM}, 143, ""},
		{signalError{syscall.SIGHUP}, 129, ""},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
		if got := errorCode(tc.err); got != tc.tag {
			t.Errorf("%v: code %q, want %q", tc.err, got, tc.tag)
		}
	}
}

func jwtPart(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestInfoExpiredAndMalformed(t *testing.T) {
	expired := jwtPart(`{"alg":"none"}`) + "." + jwtPart(fmt.Sprintf(`{"sub":"a","exp":%d}`, time.Now().Add(-time.Hour).Unix())) + ".x"
	var out, errb bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "empty.json") // no environment configured
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	code := run(context.Background(), []string{"info", "--config", cfg, expired}, &out, &errb)
	if code != exitFailed || !strings.Contains(out.String(), "expired") || !strings.Contains(out.String(), "not verified") {
		t.Errorf("expired: exit %d, %q", code, out.String())
	}
	if !strings.Contains(out.String(), "Z (expired") {
		t.Errorf("expiry not in UTC: %q", out.String())
	}
	future := jwtPart(`{"alg":"none"}`) + "." + jwtPart(fmt.Sprintf(`{"exp":%d}`, time.Now().Add(time.Hour).Unix())) + ".x"
	out.Reset()
	if code := run(context.Background(), []string{"info", "--config", cfg, future}, &out, &errb); code != exitUnverified {
		t.Errorf("unexpired unverified: exit %d, %q; want %d", code, out.String(), exitUnverified)
	}
	for _, bad := range []string{"abc", "a.b.c", jwtPart("[]") + "." + jwtPart("{}") + ".x"} {
		if code := run(context.Background(), []string{"info", "--config", cfg, bad}, &out, &errb); code != exitFailed {
			t.Errorf("%q: exit %d", bad, code)
		}
	}
}

func TestEncryptionKeyFile(t *testing.T) {
	t.Setenv("AUTHORIZER_CACHE_KEY", "")
	dir := filepath.Join(t.TempDir(), "c")
	k1, err := encryptionKey(dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("key %d bytes, %v", len(k1), err)
	}
	st, err := os.Stat(filepath.Join(dir, cacheKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st.Mode(), err)
	}
	k2, _ := encryptionKey(dir)
	if !bytes.Equal(k1, k2) {
		t.Error("the key file is not reused")
	}
	if err := os.Chmod(filepath.Join(dir, cacheKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	var ice *authorizer.InvalidConfigError
	if _, err := encryptionKey(dir); !errors.As(err, &ice) {
		t.Errorf("a readable key file: %v, want an InvalidConfigError", err)
	}
	t.Setenv("AUTHORIZER_CACHE_KEY", strings.Repeat("ab", 32))
	if k, err := encryptionKey(dir); err != nil || k[0] != 0xab {
		t.Errorf("env key: %v", err)
	}
	t.Setenv("AUTHORIZER_CACHE_KEY", "short")
	if _, err := encryptionKey(dir); !errors.As(err, &ice) {
		t.Errorf("short env key: %v", err)
	}
}

func TestHelpAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"help"}, &out, &errb); code != 0 ||
		!strings.Contains(errb.String(), "Exit codes") || !strings.Contains(errb.String(), "AUTHORIZER_CACHE_KEY") || out.Len() != 0 {
		t.Errorf("help: exit %d", code)
	}
	if code := run(context.Background(), []string{"fetch"}, &out, &errb); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(context.Background(), []string{"token", "--client-secret", "x"}, &out, &errb); code != exitUsage {
		t.Errorf("a secret flag is no flag: exit %d", code)
	}
}

func TestProcessEnvironment(t *testing.T) {
	t.Setenv("AUTHORIZER_ISSUER", "https://idp.example.com")
	t.Setenv("AUTHORIZER_CLIENT_ID", "svc")
	t.Setenv("AUTHORIZER_CLIENT_SECRET", "s3cret-value")
	t.Setenv("AUTHORIZER_CONFIG", filepath.Join(t.TempDir(), "absent.json"))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"envs"}, &out, &errb)
	// An explicit but missing file is a configuration error.
	if code != exitConfig {
		t.Errorf("missing explicit file: exit %d", code)
	}
	t.Setenv("AUTHORIZER_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out.Reset()
	if code := run(context.Background(), []string{"envs"}, &out, &errb); code != 0 ||
		out.String() != "env\tclient_credentials\thttps://idp.example.com\tsvc\n" {
		t.Errorf("envs: exit %d, %q", code, out.String())
	}
	if strings.Contains(out.String()+errb.String(), "s3cret-value") {
		t.Error("a secret was printed")
	}
}

func FuzzDecodeJWT(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.x")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		h, c, err := decodeJWT(s)
		if err == nil && (h == nil || c == nil) {
			t.Fatal("nil part without error")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"dev": {"flow": "device", "issuer": "https://a", "client_id": "c"}}`))
	f.Add([]byte(`{"x": {"client_id": "c", "user_pool_id": "p"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		envs, err := parseConfig(b)
		if err == nil {
			for _, c := range envs {
				if c.ClientID == "" || c.Flow == "" {
					t.Fatalf("accepted %+v", c)
				}
			}
		}
	})
}
