// Command authorizer gets, shows and uses OAuth 2.0 / Cognito tokens for the
// environments it is configured with, on the authorizer SDK's packages.
// Run "authorizer help" for the commands, configuration and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// globals are the flags every command takes.
type globals struct {
	env, config, cacheDir string
	quiet, refresh        bool
	verbose               bool
	device                bool
	format                string
	discover              bool
	logger                *slog.Logger
	opener                *opener
	stdout, stderr        io.Writer
}

// info prints a progress line on stderr unless --quiet.
func (g *globals) info(format string, args ...any) {
	if !g.quiet {
		fmt.Fprintf(g.stderr, "authorizer: "+format+"\n", args...)
	}
}

// command is one subcommand.
type command struct {
	run   func(ctx context.Context, g *globals, args []string) error
	usage string
}

var commands = map[string]command{
	"token":  {runToken, "token [-e ENV] [--format bare|header|json] [--refresh]   print a valid access token"},
	"header": {runHeader, "header [-e ENV] [--refresh]                              print the Authorization (and X-Api-Key) header lines"},
	"curl":   {runCurl, "curl [-e ENV] -- <curl args>                             run curl with the headers added"},
	"info":   {runInfo, "info [-e ENV] [--discover] [TOKEN|-]                     decode a JWT, show time left, verify it"},
	"envs":   {runEnvs, "envs                                                     list environments (name, flow, issuer, client id)"},
	"test":   {runTest, "test [-e ENV]                                            exit 0 when a token can be had"},
	"reset":  {runReset, "reset [-e ENV]                                           forget the cached token"},
	"login":  {runLogin, "login [-e ENV] [--device]                               sign in (browser with PKCE, or device code)"},
	"logout": {runLogout, "logout [-e ENV]                                          sign out: revoke and forget the tokens"},
}

func main() {
	ctx, stop := withSignals(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, helpText())
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "authorizer: unknown command %q (see authorizer help)\n", name)
		return exitUsage
	}
	g := &globals{stdout: stdout, stderr: stderr, opener: &opener{}}
	fs := flagSet(name, g, stderr)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	g.logger = newLogger(g.quiet || !g.verbose)
	err := cmd.run(ctx, g, fs.Args())
	if sig, ok := interrupted(ctx); ok {
		// Whatever the command made of its cancelled context, a signal
		// ends the run with the shell's code for it.
		err = sig
	}
	return report(g, name, err)
}

// flagSet declares the common flags.
func flagSet(name string, g *globals, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("authorizer "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.env, "e", "", "environment name (default $AUTHORIZER_ENV, or the only one)")
	fs.StringVar(&g.config, "config", "", "environments file (default $AUTHORIZER_CONFIG, or <config dir>/authorizer/environments.json)")
	fs.StringVar(&g.cacheDir, "cache-dir", "", "token cache directory (default $AUTHORIZER_CACHE_DIR, or <cache dir>/authorizer)")
	fs.BoolVar(&g.quiet, "quiet", false, "print nothing but the output and errors")
	fs.BoolVar(&g.verbose, "verbose", false, "also print the SDK's warnings (never a secret)")
	fs.BoolVar(&g.refresh, "refresh", false, "get a new token even when the cached one is valid")
	fs.BoolVar(&g.device, "device", false, "sign in with a device code instead of the browser")
	fs.StringVar(&g.format, "format", "bare", "token output: bare, header or json")
	fs.BoolVar(&g.discover, "discover", false, "info: verify against the token's own issuer's discovery document")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: authorizer %s\n\nflags:\n", commands[name].usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nSee authorizer help for configuration, the cache key and exit codes.\n")
	}
	return fs
}

// report prints err as one line with its code and returns the exit code.
func report(g *globals, name string, err error) int {
	if err == nil {
		return exitOK
	}
	var pass passThrough
	if errors.As(err, &pass) {
		return int(pass)
	}
	code := exitCode(err)
	if !errors.Is(err, errSilent) {
		line := "authorizer " + name + ": " + oneLine(strings.TrimPrefix(err.Error(), "authorizer: "))
		if c := errorCode(err); c != "" {
			line += " [" + c + "]"
		}
		fmt.Fprintln(g.stderr, line)
	}
	return code
}

// loadSession reads the configuration and builds the chosen environment.
func loadSession(ctx context.Context, g *globals) (*session, error) {
	envs, err := loadConfig(g.config)
	if err != nil {
		return nil, err
	}
	c, err := pick(envs, g.env)
	if err != nil {
		return nil, err
	}
	return newSession(ctx, g, c, g.device)
}
