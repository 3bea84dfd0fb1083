//go:build linux

package redisstore

import (
	"bufio"
	"context"
	"fmt"
	"github.com/redis/go-redis/v9"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Real redis-server tests. AUTHORIZER_REDIS_ADDR names a running server
// (scripts/peers/redis/start.sh); AUTHORIZER_REDIS_SPARE_PORT a free port
// on which tests start, pause, kill and restart a redis-server of their
// own. Without them the tests skip, unless AUTHORIZER_REQUIRE_PEERS=1.

func peerEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("AUTHORIZER_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s is not set and AUTHORIZER_REQUIRE_PEERS=1", name)
		}
		t.Skipf("%s is not set (scripts/test.sh sets it)", name)
	}
	return v
}

// redisProc is a redis-server this test started.
type redisProc struct {
	t    *testing.T
	port string
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisProc {
	t.Helper()
	port := peerEnv(t, "AUTHORIZER_REDIS_SPARE_PORT")
	p := &redisProc{t: t, port: port, dir: t.TempDir()}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *redisProc) addr() string { return "127.0.0.1:" + p.port }

func (p *redisProc) start() {
	p.t.Helper()
	p.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", p.port, "--dir", p.dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(p.dir, "redis.log"))
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("redis-server: %v (scripts/peers/redis/start.sh installs it)", err)
	}
	for range 100 {
		if c, err := net.DialTimeout("tcp", p.addr(), 100*time.Millisecond); err == nil {
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("redis-server did not start on %s", p.addr())
}

func (p *redisProc) pause()  { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }
func (p *redisProc) resume() { _ = p.cmd.Process.Signal(syscall.SIGCONT) }

// kill ends the server (even a paused one) and waits for it.
func (p *redisProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// A paused Redis (SIGSTOP) accepts connections and never answers: every
// call ends at the call timeout, Lock goes ahead without a lease, and the
// breaker stops further calls.
func TestPausedRedisIsBounded(t *testing.T) {
	p := startRedis(t)
	s := newStoreOn(t, p.addr(), WithCallTimeout(200*time.Millisecond))
	ctx := context.Background()
	if _, err := s.Load(ctx, "k"); err != nil { // a pooled connection, then pause
		t.Fatal(err)
	}
	p.pause()
	defer p.resume()
	start := time.Now()
	unlock, err := s.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("Lock on a paused Redis = %v; want nil", err)
	}
	_ = unlock()
	_, loadErr := s.Load(ctx, "k")
	d := time.Since(start)
	t.Logf("Lock + Load against a paused Redis: %v (call timeout 200ms)", d)
	if loadErr == nil {
		t.Error("Load on a paused Redis succeeded")
	}
	if d > 20*time.Second { // go-redis without the call deadline: its read timeout, then retries
		t.Errorf("took %v", d)
	}
	if s.breaker.allow() {
		t.Error("breaker closed after two timeouts")
	}

	// Why New insists on ContextTimeoutEnabled: without it go-redis
	// ignores the deadline and waits for its read timeout (3 s).
	plain := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1})
	defer plain.Close()
	ctx200, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = plain.Get(ctx200, "k").Err()
	d = time.Since(start)
	t.Logf("GET given 200ms by a client without ContextTimeoutEnabled: %v (%v)", d.Round(time.Millisecond), err)
	if d < time.Second {
		t.Errorf("go-redis honoured the deadline without ContextTimeoutEnabled (%v): New's check is moot", d)
	}
}
