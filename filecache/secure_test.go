//go:build unix

package filecache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSharedDirIsRefused: a directory others may write to, or another
// user's, is refused unless InsecureAllowSharedDir.
func TestSharedDirIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		owner func() int // the uid New believes it runs as
		want  string
	}{
		{name: "world-writable", mode: 0o777, want: "writable by other users"},
		{name: "group-writable", mode: 0o770, want: "writable by other users"},
		{name: "another user's", mode: 0o700, owner: func() int { return os.Geteuid() + 4242 }, want: "belongs to uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, tc.mode))
			if tc.owner != nil {
				currentUID = tc.owner
				t.Cleanup(func() { currentUID = os.Geteuid })
			}
			_, err := New(WithDir(dir))
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Problem, tc.want)
			assert.Contains(t, ce.Problem, "InsecureAllowSharedDir", "names the way out")

			_, err = New(WithDir(dir), InsecureAllowSharedDir())
			require.NoError(t, err)
		})
	}
}

func TestOwnDirIsAccepted(t *testing.T) {
	for _, mode := range []os.FileMode{0o700, 0o755} {
		dir := filepath.Join(t.TempDir(), "cache")
		require.NoError(t, os.Mkdir(dir, mode))
		require.NoError(t, os.Chmod(dir, mode))
		_, err := New(WithDir(dir))
		require.NoError(t, err, "mode %s", mode)
	}
	// A symbolic link to one's own directory is fine: the target is judged.
	target := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(target, link))
	_, err := New(WithDir(link))
	require.NoError(t, err)
}

// TestPlantedSymlinkIsNotLoaded: a link at the token file's name, to a
// valid token file elsewhere (another user's session), is not followed.
func TestPlantedSymlinkIsNotLoaded(t *testing.T) {
	c, logBuf := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	attacker, _ := newTestCache(t)
	require.NoError(t, attacker.Store(context.Background(), key, testToken()))
	require.NoError(t, os.Symlink(attacker.path(key), c.path(key)))

	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got, "the attacker's token was loaded through a symbolic link")
	assert.Contains(t, logBuf.String(), "symbolic link")

	// The next Store replaces the link, not its target.
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	fi, err := os.Lstat(c.path(key))
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular())
}

func TestAnotherUsersFileIsNotLoaded(t *testing.T) {
	c, logBuf := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	currentUID = func() int { return os.Geteuid() + 4242 }
	t.Cleanup(func() { currentUID = os.Geteuid })
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Contains(t, logBuf.String(), "not a regular file owned by this user")
}

// mkfifo puts a FIFO at p, and makes sure at cleanup that nothing stays
// blocked on it (a writer releases a reader blocked in open).
func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	t.Cleanup(func() {
		if w, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = w.Close()
		}
	})
}

// within runs f and fails t if it has not returned after a long time; it
// returns at once when f does (no timing margin on the happy path).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s blocked", what)
	}
}

func TestFIFOAtTokenPathDoesNotBlockLoad(t *testing.T) {
	c, logBuf := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	mkfifo(t, c.path(key))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	within(t, "Load on a FIFO", func() { _, err = c.Load(ctx, key) })
	require.NoError(t, err)
	assert.Contains(t, logBuf.String(), "not a regular file")
}

func TestFIFOAtLockPathDoesNotBlockLock(t *testing.T) {
	c, _ := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	mkfifo(t, c.path(key)+".lock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	within(t, "Lock on a FIFO", func() { _, err = c.Lock(ctx, key) })
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, errNotOwnFile)
}

// TestLockDoesNotFollowSymlink: a link at the lock file's name is refused,
// and its target is neither created nor touched.
func TestLockDoesNotFollowSymlink(t *testing.T) {
	c, _ := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	target := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.Symlink(target, c.path(key)+".lock"))
	_, err := c.Lock(context.Background(), key)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, errSymlink)
	_, statErr := os.Lstat(target)
	assert.True(t, errors.Is(statErr, fs.ErrNotExist), "the link's target was created")
}

func TestEndedContext(t *testing.T) {
	c, _ := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Load(ctx, key)
	require.ErrorIs(t, err, context.Canceled)
	_, err = c.Lock(ctx, key)
	require.ErrorIs(t, err, context.Canceled)
}
