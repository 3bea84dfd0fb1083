//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func umask(m int) int { return syscall.Umask(m) }

// Under umask 000 the key file is still 0600 and the directory 0700.
func TestBreakKeyFileModeUnderPermissiveUmask(t *testing.T) {
	t.Setenv("AUTHORIZER_CACHE_KEY", "")
	old := umask(0)
	defer umask(old)
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := encryptionKey(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, cacheKeyFile): 0o600} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, st.Mode().Perm(), err, want)
		}
	}
}

// A world-writable cache directory is refused before a key file is
// written into it (old code wrote cache.key, then filecache refused).
func TestBreakKeyNotWrittenIntoSharedDir(t *testing.T) {
	t.Setenv("AUTHORIZER_CACHE_KEY", "")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := openCache(dir)
	if err == nil || exitCode(err) != exitConfig {
		t.Fatalf("openCache(world-writable): %v, want a configuration error", err)
	}
	if _, serr := os.Lstat(filepath.Join(dir, cacheKeyFile)); serr == nil {
		t.Error("the key file was written into a world-writable directory")
	}
}

// A key file that is a symbolic link is refused, even to a 0600 file.
func TestBreakKeyFileSymlinkRefused(t *testing.T) {
	t.Setenv("AUTHORIZER_CACHE_KEY", "")
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(target, []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, cacheKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := encryptionKey(dir); err == nil || !strings.Contains(err.Error(), "link") {
		t.Errorf("symlinked key file: %v, want refused", err)
	}
}

// A config file that is a FIFO must be refused, not block forever.
func TestBreakConfigFIFORefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	c := newCLI(t, map[string]map[string]any{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := c.command(ctx, "envs", "--config", fifo)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("envs on a FIFO config blocked")
	}
	var ee *exec.ExitError
	if !errAs(err, &ee) || ee.ExitCode() != exitConfig || !strings.Contains(string(out), "not a regular file") {
		t.Errorf("envs --config FIFO: %v, %q; want exit 3, not a regular file", err, out)
	}
}
