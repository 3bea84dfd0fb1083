package oauth2auth

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelperProcessSignIn is not a test: it is the body of the helper
// processes that TestPeerProcessesShareOneSignIn starts (the os/exec test
// pattern). It signs in with the device flow and a file cache in
// SIGNIN_HELPER_DIR, appends a line to <dir>/prompts for every prompt, and
// prints the access token's fingerprint.
func TestHelperProcessSignIn(t *testing.T) {
	dir := os.Getenv("SIGNIN_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	issuer := os.Getenv("AUTHORIZER_OIDC_ISSUER")
	cache, err := filecache.New(filecache.WithDir(filepath.Join(dir, "cache")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	prompt := func(ctx context.Context, p DevicePrompt) error {
		f, err := os.OpenFile(filepath.Join(dir, "prompts"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		fmt.Fprintln(f, os.Getpid())
		_ = f.Close()
		time.Sleep(300 * time.Millisecond) // widen the race window
		return newPeerUser(t, "carol").approveDevice(ctx, issuer, p.UserCode)
	}
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient},
		Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access"}},
		WithTokenCache(cache), WithDevicePrompt(prompt), withPollInterval(200*time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := a.Authorize(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(5)
	}
	fmt.Println("TOKEN", data.Fingerprint(tok.AccessToken))
	os.Exit(0)
}

// startSignInProcess runs TestHelperProcessSignIn in a new process.
func startSignInProcess(t *testing.T, dir string) (*exec.Cmd, *strings.Builder) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessSignIn$")
	cmd.Env = append(os.Environ(), "SIGNIN_HELPER_DIR="+dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	return cmd, &out
}

// fingerprintOf extracts the TOKEN line of a helper's output.
func fingerprintOf(t *testing.T, out string) string {
	for line := range strings.Lines(out) {
		if fp, ok := strings.CutPrefix(strings.TrimSpace(line), "TOKEN "); ok {
			return fp
		}
	}
	t.Fatalf("helper printed no token: %s", out)
	return ""
}

func countPrompts(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "prompts"))
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(b), "\n")
}

func TestPeerProcessesShareOneSignIn(t *testing.T) {
	peerEnv(t) // skips without the peer
	dir := t.TempDir()
	first, out1 := startSignInProcess(t, dir)
	second, out2 := startSignInProcess(t, dir)
	require.NoError(t, first.Wait(), out1.String())
	require.NoError(t, second.Wait(), out2.String())
	assert.Equal(t, 1, countPrompts(t, dir), "two processes started together sign in once")
	fp := fingerprintOf(t, out1.String())
	assert.Equal(t, fp, fingerprintOf(t, out2.String()), "both use the one token")

	// A later run finds the valid cached token: no prompt at all.
	third, out3 := startSignInProcess(t, dir)
	require.NoError(t, third.Wait(), out3.String())
	assert.Equal(t, 1, countPrompts(t, dir), "a later run does not prompt")
	assert.Equal(t, fp, fingerprintOf(t, out3.String()))
}
