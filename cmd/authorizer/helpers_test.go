package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	if code == 0 {
		// Idle keep-alive connections of the HTTP clients that play the user.
		if err := goleak.Find(goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// binary builds the command once per test run (go build into a temp dir).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "authorizer-cli-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "authorizer")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// cli is one configuration: a config file and a cache directory.
type cli struct {
	t        *testing.T
	config   string
	cacheDir string
	env      []string
}

func newCLI(t *testing.T, envs map[string]map[string]any, env ...string) *cli {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(envs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "environments.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, config: cfg, cacheDir: filepath.Join(dir, "cache"), env: env}
}

// command prepares a run of the binary with this configuration.
func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary(c.t), args...)
	cmd.Env = append(cleanEnv(), "AUTHORIZER_CONFIG="+c.config, "AUTHORIZER_CACHE_DIR="+c.cacheDir, "HOME="+filepath.Dir(c.config))
	cmd.Env = append(cmd.Env, c.env...)
	return cmd
}

// run runs the binary and returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// cleanEnv is the test's environment without AUTHORIZER_* settings of the
// command (the peers' addresses stay out of the child's view as well), and
// without a display, so that no browser is ever opened.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AUTHORIZER_") || strings.HasPrefix(kv, "DISPLAY=") ||
			strings.HasPrefix(kv, "WAYLAND_DISPLAY=") || strings.HasPrefix(kv, "BROWSER=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
