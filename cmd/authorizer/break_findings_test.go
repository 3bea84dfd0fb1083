package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Open findings (no small local fix): each Skip says what is wrong.

func TestBreakInterruptAtPasswordPrompt(t *testing.T) {
	t.Skip("FINDING (low-medium): Ctrl-C at the SRP password prompt does nothing until Enter: main's " +
		"signal.NotifyContext swallows SIGINT and promptPassword's ReadString on /dev/tty does not watch ctx; " +
		"and SIGTERM (not handled) during the prompt leaves the terminal with echo off (the deferred stty echo never runs)")
}

func TestBreakSIGTERMNotHandled(t *testing.T) {
	t.Skip("FINDING (low): only os.Interrupt is caught; SIGTERM/SIGHUP kill the process mid sign-in " +
		"without the deferred clean-up (exit 143); SIGINT exits 1, not the conventional 130")
}

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

func TestBreakCurlReadsCurlrc(t *testing.T) {
	t.Skip("FINDING (low, documentation): curl still reads ~/.curlrc (-q would have to be the first argument, " +
		"and -K /dev/fd/3 is); a curlrc with trace/verbose options writes the Authorization header; say so in --help")
}
