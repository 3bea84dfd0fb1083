package main

import "testing"

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

func TestBreakInfoIgnoresConfigError(t *testing.T) {
	t.Skip("FINDING (medium, with TestBreakInfoUnverifiedIsNotValid): verifyToken drops loadConfig's error, " +
		"so with a broken or unreadable config a forged token naming a configured issuer is reported " +
		"'not verified' and exits 0 instead of being checked")
}

func TestBreakCurlReadsCurlrc(t *testing.T) {
	t.Skip("FINDING (low, documentation): curl still reads ~/.curlrc (-q would have to be the first argument, " +
		"and -K /dev/fd/3 is); a curlrc with trace/verbose options writes the Authorization header; say so in --help")
}
