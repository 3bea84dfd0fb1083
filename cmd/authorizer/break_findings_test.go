package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A broken configuration is reported as one (exit 3), not turned into "not
// verified" for a forged token that names a configured issuer.
func TestBreakInfoIgnoresConfigError(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "environments.json")
	if err := os.WriteFile(cfg, []byte(`{"api": {"issuer": `), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := jwtPart(`{"alg":"none"}`) + "." + jwtPart(`{"iss":"https://idp.example","exp":99999999999}`) + ".x"
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"info", "--config", cfg, tok}, &out, &errb); code != exitConfig {
		t.Errorf("info with a broken config: exit %d (%q); want %d", code, errb.String(), exitConfig)
	}
}

// curl is started with -q first, so it reads no ~/.curlrc (whose trace or
// verbose options would write the Authorization header out).
func TestBreakCurlReadsCurlrc(t *testing.T) {
	srv := fakeTokenServer(t)
	bin := t.TempDir()
	dump := filepath.Join(bin, "args.txt")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + dump + "\n"
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, map[string]map[string]any{"x": {"token_url": srv.URL + "/token", "client_id": "c",
		"client_secret_env": "MY_CC_SECRET"}},
		"MY_CC_SECRET=secret-in-env-1", "AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32), "PATH="+bin+":"+os.Getenv("PATH"))
	if _, errOut, code := c.run("curl", "--", "http://127.0.0.1:1/"); code != 0 {
		t.Fatalf("curl: exit %d, %s", code, errOut)
	}
	args, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(args), "\n"); first != "-q" {
		t.Errorf("curl's first argument is %q; want -q (no ~/.curlrc)", first)
	}
}

// A run whose context a signal cancelled exits 128 + the signal, whatever
// the command made of the cancellation, and says so on one line.
func TestSignalledRunExitCode(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "environments.json")
	if err := os.WriteFile(cfg, []byte(`{"api": {"issuer": "https://idp.example", "client_id": "c"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(signalError{sig})
		var out, errb strings.Builder
		if code := run(ctx, []string{"envs", "--config", cfg}, &out, &errb); code != 128+int(sig) {
			t.Errorf("%v: exit %d; want %d", sig, code, 128+int(sig))
		}
		if want := "authorizer envs: interrupted by " + signalName(sig) + "\n"; errb.String() != want {
			t.Errorf("%v: stderr %q; want %q", sig, errb.String(), want)
		}
	}
	// A context cancelled for another reason keeps the command's own code.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	if code := run(ctx, []string{"envs", "--config", cfg}, &out, &errb); code != exitOK {
		t.Errorf("cancelled, no signal: exit %d (%q); want 0", code, errb.String())
	}
}
