package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/seed-d44eba79/authorizer"
)

// promptPassword asks for the password on the terminal with echo turned
// off (stty -echo; golang.org/x/term is not a dependency of the SDK).
func promptPassword(user string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", &authorizer.InvalidConfigError{Setting: "password",
			Problem: "is needed: name password_env or password_file in the environment, or run on a terminal"}
	}
	defer tty.Close()
	if err := stty(tty, "-echo"); err != nil {
		return "", &authorizer.InvalidConfigError{Setting: "password", Problem: "cannot be read without echo on this terminal"}
	}
	defer func() { _ = stty(tty, "echo") }()
	fmt.Fprintf(tty, "Password for %s: ", user)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty)
	if err != nil && line == "" {
		return "", &authorizer.InvalidConfigError{Setting: "password", Problem: "was not entered"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func stty(tty *os.File, arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = tty
	return cmd.Run()
}
