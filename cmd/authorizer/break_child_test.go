package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTokenServer answers every token request with one fixed token.
func fakeTokenServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"tok-break-123","token_type":"Bearer","expires_in":300}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A secret the configuration names (client_secret_env) or AUTHORIZER_* holds
// must not be in curl's environment (/proc/<pid>/environ, child processes).
func TestBreakCurlChildEnvHasNoSecret(t *testing.T) {
	srv := fakeTokenServer(t)
	bin := t.TempDir()
	dump := filepath.Join(bin, "env.txt")
	script := "#!/bin/sh\nenv > " + dump + "\n"
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, map[string]map[string]any{"x": {"token_url": srv.URL + "/token", "client_id": "c",
		"client_secret_env": "MY_CC_SECRET", "api_key_env": "MY_API_KEY"}},
		"MY_CC_SECRET=secret-in-env-1", "MY_API_KEY=apikey-in-env-2",
		"AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32), "PATH="+bin+":"+os.Getenv("PATH"))
	if _, errOut, code := c.run("curl", "--", "http://127.0.0.1:1/"); code != 0 {
		t.Fatalf("curl: exit %d, %s", code, errOut)
	}
	env, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secret-in-env-1", "apikey-in-env-2", strings.Repeat("ab", 32)} {
		if strings.Contains(string(env), s) {
			t.Errorf("curl's environment holds a secret %q", s)
		}
	}
	if !strings.Contains(string(env), "PATH=") {
		t.Error("curl's environment lost PATH")
	}
}

// A huge config file is refused with a clear error, not read whole.
func TestBreakConfigHugeRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(p, []byte(`{"x": {"issuer": "`+strings.Repeat("a", maxConfigSize)+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "larger than") || exitCode(err) != exitConfig {
		t.Errorf("huge config: %v", err)
	}
}

func errAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// An API key with a newline (a key file written with echo, a CI variable)
// ended the X-Api-Key header and, in `curl`, the config line: the rest of
// the value became curl options of its own (here: write the response to a
// file).
func TestBreakAPIKeyNewlineInjection(t *testing.T) {
	srv := fakeTokenServer(t)
	out := filepath.Join(t.TempDir(), "written")
	c := newCLI(t, map[string]map[string]any{"x": {"token_url": srv.URL + "/token", "client_id": "c",
		"client_secret_env": "S", "api_key_env": "K"}},
		"S=s", "K=key\noutput = \""+out+"\"")
	o, e, code := c.run("header")
	if code != exitConfig || strings.Contains(o, "output") || strings.Contains(e, out) {
		t.Errorf("header with a newline in the API key: exit %d, stdout %q, stderr %q; want exit 3", code, o, e)
	}
}
