package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// promptPassword asks for the password on the terminal with echo turned
// off (stty -echo; golang.org/x/term is not a dependency of the SDK). It
// returns as soon as ctx is done (Ctrl-C, SIGTERM, SIGHUP), with the
// context's cause; echo is turned back on on every way out.
func promptPassword(ctx context.Context, user string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", &authorizer.InvalidConfigError{Setting: "password",
			Problem: "is needed: name password_env or password_file in the environment, or run on a terminal"}
	}
	defer tty.Close()
	if err := stty("-echo"); err != nil {
		return "", &authorizer.InvalidConfigError{Setting: "password", Problem: "cannot be read without echo on this terminal"}
	}
	defer func() { _ = stty("echo") }()
	fmt.Fprintf(tty, "Password for %s: ", user)
	line, err := readLine(ctx, tty)
	fmt.Fprintln(tty)
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if err != nil && line == "" {
		return "", &authorizer.InvalidConfigError{Setting: "password", Problem: "was not entered"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readLine reads one line from tty, or gives up when ctx is done. The
// reading goroutine ends with readLine: a read deadline in the past
// unblocks it (tty is pollable: it was never handed to a child, which
// would have put it into blocking mode), and readLine waits for it.
func readLine(ctx context.Context, tty *os.File) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(tty).ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
	}
	if tty.SetReadDeadline(time.Now()) != nil {
		// Not pollable: the goroutine ends with the next line typed,
		// or when the process exits.
		return "", context.Cause(ctx)
	}
	<-ch
	return "", context.Cause(ctx)
}

// stty runs stty on the terminal, opened for it alone: handing the reading
// file to a child would make it blocking, and its read deaf to ctx.
func stty(arg string) error {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer tty.Close()
	cmd := exec.Command("stty", arg)
	cmd.Stdin = tty
	return cmd.Run()
}
