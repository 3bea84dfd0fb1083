package filecache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary re-executes itself as a helper process when
// FILECACHE_HELPER is set (the os/exec test pattern).
func TestMain(m *testing.M) {
	switch os.Getenv("FILECACHE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "hold":
		os.Exit(helperHold())
	case "increment":
		os.Exit(helperIncrement())
	}
	os.Exit(2)
}

// helperHold takes the lock, says so on stdout, and holds it until stdin
// closes.
func helperHold() int {
	c, err := New(WithDir(os.Getenv("FILECACHE_DIR")))
	if err != nil {
		return 3
	}
	unlock, err := c.Lock(context.Background(), "k")
	if err != nil {
		return 4
	}
	fmt.Println("locked")
	_, _ = os.Stdin.Read(make([]byte, 1))
	_ = unlock()
	return 0
}

// helperIncrement adds one to the counter file under the lock, slowly, so
// that unsynchronised processes would lose updates.
func helperIncrement() int {
	dir := os.Getenv("FILECACHE_DIR")
	c, err := New(WithDir(dir), WithLockRetry(5*time.Millisecond))
	if err != nil {
		return 3
	}
	for range 5 {
		unlock, err := c.Lock(context.Background(), "counter")
		if err != nil {
			return 4
		}
		p := filepath.Join(dir, "counter")
		b, _ := os.ReadFile(p)
		n, _ := strconv.Atoi(string(b))
		time.Sleep(2 * time.Millisecond)
		if err := os.WriteFile(p, []byte(strconv.Itoa(n+1)), 0o600); err != nil {
			return 5
		}
		_ = unlock()
	}
	return 0
}

func helperCmd(t *testing.T, mode, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FILECACHE_HELPER="+mode, "FILECACHE_DIR="+dir)
	return cmd
}

func TestLockBetweenProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := helperCmd(t, "hold", dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 6)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "locked", string(buf))

	c, err := New(WithDir(dir), WithLockRetry(10*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Lock(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the other process holds the lock")

	unlockOther := make(chan struct{})
	go func() { <-unlockOther; _ = stdin.Close() }()
	start := time.Now()
	close(unlockOther)
	unlock, err := c.Lock(context.Background(), "k")
	require.NoError(t, err)
	t.Logf("acquired %v after the other process released", time.Since(start))
	require.NoError(t, unlock())
	require.NoError(t, cmd.Wait())
}

func TestLockSerialisesProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs = 4
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmds[i] = helperCmd(t, "increment", dir)
		require.NoError(t, cmds[i].Start())
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	b, err := os.ReadFile(filepath.Join(dir, "counter"))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(procs*5), string(b), "no update lost")
}

func TestLockBetweenGoroutines(t *testing.T) {
	c, _ := newTestCache(t, WithLockRetry(time.Millisecond))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		inside  int
		maxSeen int
	)
	for range 8 {
		wg.Go(func() {
			unlock, err := c.Lock(context.Background(), "k")
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			inside++
			maxSeen = max(maxSeen, inside)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			assert.NoError(t, unlock())
		})
	}
	wg.Wait()
	assert.Equal(t, 1, maxSeen, "one holder at a time")
}

func TestLockCanceled(t *testing.T) {
	c, _ := newTestCache(t)
	unlock, err := c.Lock(context.Background(), "k")
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Lock(ctx, "k")
	require.ErrorIs(t, err, context.Canceled)
}
