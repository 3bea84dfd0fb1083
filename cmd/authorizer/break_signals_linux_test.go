package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

// exitBound is how long a signalled run may take to end. Generous: a
// loaded machine must not fail the test, and the old code never ended
// (Ctrl-C at the prompt waited for Enter).
const exitBound = 60 * time.Second

// started is a run of the binary in the background.
type started struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
	err    error         // Wait's error, once exited is closed
	stderr *os.File
}

// start runs the binary with c's configuration. With tty, the process runs
// in a session of its own with tty as its controlling terminal (stdin).
// Its stdout is returned as a pipe; stderr goes to a file (no copying
// goroutine for Wait to wait on when a child keeps it open).
func (c *cli) start(tty *os.File, args ...string) (*started, *bufio.Reader) {
	c.t.Helper()
	return c.startCmd(c.command(context.Background(), args...), tty)
}

func (c *cli) startCmd(cmd *exec.Cmd, tty *os.File) (*started, *bufio.Reader) {
	c.t.Helper()
	stderr, err := os.CreateTemp(c.t.TempDir(), "stderr")
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stderr = stderr
	if tty != nil {
		cmd.Stdin = tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	// An os.Pipe of our own, not StdoutPipe: Wait (called at once below)
	// closes StdoutPipe's reader, which could lose output not read yet.
	stdout, w, err := os.Pipe()
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { stdout.Close() })
	s := &started{cmd: cmd, exited: make(chan struct{}), stderr: stderr}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	return s, bufio.NewReader(stdout)
}

// wait returns the exit code, failing the test if the run does not end
// within exitBound.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(exitBound):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("still running %v after the signal", exitBound)
	}
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		t.Fatalf("wait: %v", s.err)
	}
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("killed by %v: no clean-up ran", ws.Signal())
	}
	return s.cmd.ProcessState.ExitCode()
}

func (s *started) stderrText(t *testing.T) string {
	b, err := os.ReadFile(s.stderr.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Ctrl-C (and SIGTERM, SIGHUP) at the SRP password prompt ends the run at
// once with 128 + the signal, and the terminal echoes again.
func TestBreakInterruptAtPasswordPrompt(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(p *pty, s *started) error
		code int
	}{
		{"ctrl-c typed", func(p *pty, _ *started) error { _, err := p.master.Write([]byte{0x03}); return err }, 130},
		{"SIGTERM", func(_ *pty, s *started) error { return s.cmd.Process.Signal(syscall.SIGTERM) }, 143},
		{"SIGHUP", func(_ *pty, s *started) error { return s.cmd.Process.Signal(syscall.SIGHUP) }, 129},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openPTY(t)
			c := newCLI(t, map[string]map[string]any{"pool": {"flow": "srp", "region": "us-east-1",
				"user_pool_id": "us-east-1_AbCdEf", "client_id": "c", "username": "alice",
				"endpoint": "http://127.0.0.1:1"}}, "AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32))
			s, _ := c.start(p.slave, "token")
			p.waitFor(t, "Password for alice: ", s.exited)
			if p.echo(t) {
				t.Fatal("echo is on at the password prompt")
			}
			if err := tc.send(p, s); err != nil {
				t.Fatal(err)
			}
			if code := s.wait(t); code != tc.code {
				t.Errorf("exit %d (stderr %q); want %d", code, s.stderrText(t), tc.code)
			}
			if !p.echo(t) {
				t.Error("the terminal's echo is still off after the run")
			}
			if got := s.stderrText(t); !strings.Contains(got, "interrupted") {
				t.Errorf("stderr %q; want it to say the run was interrupted", got)
			}
		})
	}
}

// SIGTERM, SIGHUP and SIGINT sent to the command (not its process group)
// while curl runs: curl is killed, and the run exits 128 + the signal.
func TestBreakSIGTERMNotHandled(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}, {syscall.SIGINT, 130}} {
		t.Run(signalName(tc.sig), func(t *testing.T) {
			c := curlCLI(t)
			s, pid := c.startCurl(c.command(context.Background(), "curl", "--", "http://127.0.0.1:1/"))
			if err := s.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := s.wait(t); code != tc.code {
				t.Errorf("exit %d (stderr %q); want %d", code, s.stderrText(t), tc.code)
			}
			// The command waited for the killed curl, so it is gone
			// (not a zombie: reaped), not left running on its own.
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("curl (pid %d) outlived the command: kill -0: %v", pid, err)
			}
		})
	}
}

// A signal ignored when the command started (nohup) stays ignored: the
// SIGHUP sent first does nothing, the SIGTERM after it ends the run (the
// kernel drops an ignored signal when it is sent, so the order is sure).
func TestIgnoredSignalStaysIgnored(t *testing.T) {
	c := curlCLI(t)
	cmd := c.command(context.Background())
	cmd.Path = "/bin/sh"
	cmd.Args = []string{"sh", "-c", `trap '' HUP; exec "$0" "$@"`, binary(t), "curl", "--", "http://127.0.0.1:1/"}
	s, _ := c.startCurl(cmd)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		if err := s.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	if code := s.wait(t); code != 143 {
		t.Errorf("exit %d (stderr %q); want 143 (SIGHUP ignored, then SIGTERM)", code, s.stderrText(t))
	}
}

// curlCLI is a client-credentials configuration whose curl is a script
// that prints "started <pid>" and sleeps.
func curlCLI(t *testing.T) *cli {
	srv := fakeTokenServer(t)
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"started $$\"\nexec sleep 600\n"
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return newCLI(t, map[string]map[string]any{"x": {"token_url": srv.URL + "/token", "client_id": "c",
		"client_secret_env": "MY_CC_SECRET"}},
		"MY_CC_SECRET=s", "AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32), "PATH="+bin+":"+os.Getenv("PATH"))
}

// startCurl starts cmd and returns once its curl runs, with curl's pid.
func (c *cli) startCurl(cmd *exec.Cmd) (*started, int) {
	c.t.Helper()
	s, out := c.startCmd(cmd, nil)
	line, err := out.ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "started "))
	if err != nil || perr != nil {
		c.t.Fatalf("curl did not start: %q, %v (stderr %q)", line, err, s.stderrText(c.t))
	}
	c.t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return s, pid
}

// withSignals turns the first signal into the context's cause, and stop
// ends its goroutine (TestMain's goleak check) when no signal came.
func TestWithSignals(t *testing.T) {
	ctx, stop := withSignals(context.Background())
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	if sig, ok := interrupted(ctx); !ok || sig.sig != syscall.SIGHUP || sig.exitCode() != 129 {
		t.Errorf("cause %v; want SIGHUP, exit 129", context.Cause(ctx))
	}
	stop()
	ctx, stop = withSignals(context.Background())
	stop()
	if ctx.Err() == nil {
		t.Error("stop did not cancel the context")
	}
	if _, ok := interrupted(ctx); ok {
		t.Error("stop's cancellation taken for a signal")
	}
}

// The prompt still reads a typed password (from the terminal, echo off),
// signs in with it, and leaves echo on.
func TestPasswordPromptTyped(t *testing.T) {
	seed := peertest.Cognito(t, "AUTHORIZER_COGNITO_SEED")
	p := openPTY(t)
	c := newCLI(t, map[string]map[string]any{"pool": {"flow": "srp", "region": seed.Region,
		"user_pool_id": seed.UserPoolID, "endpoint": seed.Endpoint,
		"client_id": seed.Clients["sdk-public"].ClientID, "username": "alice"}},
		"AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32))
	s, out := c.start(p.slave, "token")
	p.waitFor(t, "Password for alice: ", s.exited)
	if _, err := p.master.Write([]byte(seed.Users["alice"].Password + "\n")); err != nil {
		t.Fatal(err)
	}
	tok, _ := out.ReadString('\n')
	if code := s.wait(t); code != 0 || !strings.HasPrefix(tok, "ey") {
		t.Errorf("exit %d, token %.10q (stderr %q); want 0 and a JWT", code, tok, s.stderrText(t))
	}
	if !p.echo(t) {
		t.Error("the terminal's echo is still off after the run")
	}
}

// deviceRun is a device-flow run whose device codes are reported on codes.
type deviceRun struct {
	*started
	codes chan string
}

// startDevice starts a device-flow "token" run, reading its stderr for the
// device code.
func (c *cli) startDevice() *deviceRun {
	c.t.Helper()
	cmd := c.command(context.Background(), "token")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	r := &deviceRun{started: &started{cmd: cmd, exited: make(chan struct{})}, codes: make(chan string, 4)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := userCodeRE.FindStringSubmatch(sc.Text()); m != nil {
				r.codes <- m[1]
			}
		}
		r.err = cmd.Wait()
		close(r.exited)
	}()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.exited
	})
	return r
}

func (r *deviceRun) code(t *testing.T) {
	t.Helper()
	select {
	case <-r.codes:
	case <-r.exited:
		t.Fatalf("exited (%v) before showing a device code", r.err)
	case <-time.After(exitBound):
		t.Fatalf("no device code within %v", exitBound)
	}
}

// A signal during a device sign-in, which holds the cache's lock, ends the
// run with 128 + the signal, and a second run waiting on that lock goes on
// to its own sign-in.
func TestSignalDuringDeviceSignIn(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	c := newCLI(t, map[string]map[string]any{"dev": {"flow": "device", "issuer": issuer,
		"client_id": "sdk-native", "scopes": []string{"openid", "offline_access"}}},
		"AUTHORIZER_CACHE_KEY="+strings.Repeat("ab", 32))
	first := c.startDevice()
	first.code(t)
	second := c.startDevice() // waits on first's lock
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 143 {
		t.Errorf("SIGTERM during the sign-in: exit %d; want 143", code)
	}
	second.code(t)
	if err := second.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := second.wait(t); code != 130 {
		t.Errorf("SIGINT during the sign-in: exit %d; want 130", code)
	}
}
