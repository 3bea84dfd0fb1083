package main

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/seed-d44eba79/authorizer"
)

// Exit codes (documented in helpText).
const (
	exitOK          = 0
	exitFailed      = 1 // anything else; info: the token is invalid
	exitUsage       = 2 // bad command line
	exitConfig      = 3 // *authorizer.InvalidConfigError
	exitClient      = 4 // *authorizer.InvalidClientError
	exitCredentials = 5 // *authorizer.InvalidCredentialsError
	exitTemporary   = 6 // a failure that may pass: network, 5xx, 429, timeout
	exitUnverified  = 7 // info: in time, but its signature was not checked
	// 128 + n: ended by signal n (130 SIGINT, 143 SIGTERM, 129 SIGHUP); see signalError.
)

// passThrough is curl's own exit status.
type passThrough int

func (p passThrough) Error() string { return "exit status" }

// errSilent is an error already reported.
var errSilent = errors.New("reported")

// temporary is implemented by the SDK's errors.
type temporary interface{ Temporary() bool }

// exitCode maps the SDK's typed errors.
func exitCode(err error) int {
	var (
		cfg   *authorizer.InvalidConfigError
		cl    *authorizer.InvalidClientError
		cr    *authorizer.InvalidCredentialsError
		tmp   temporary
		netE  net.Error
		usage usageError
		sig   signalError
	)
	switch {
	case errors.As(err, &sig):
		return sig.exitCode()
	case errors.Is(err, errUnverified):
		return exitUnverified
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &cfg):
		return exitConfig
	case errors.As(err, &cl):
		return exitClient
	case errors.As(err, &cr):
		return exitCredentials
	case errors.Is(err, authorizer.ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netE):
		return exitTemporary
	case errors.As(err, &tmp) && tmp.Temporary():
		return exitTemporary
	}
	return exitFailed
}

// errorCode is the RFC 6749 code of the typed error, or its kind.
func errorCode(err error) string {
	var (
		ae  *authorizer.AuthorizationError
		cl  *authorizer.InvalidClientError
		cr  *authorizer.InvalidCredentialsError
		cfg *authorizer.InvalidConfigError
	)
	switch {
	case errors.As(err, &cl):
		return orDefault(cl.Code, "invalid_client")
	case errors.As(err, &cr):
		return orDefault(cr.Code, "invalid_grant")
	case errors.As(err, &cfg):
		return "invalid_config"
	case errors.As(err, &ae):
		if ae.Code != "" {
			return ae.Code
		}
		if exitCode(err) == exitTemporary {
			return "temporarily_unavailable"
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneLine keeps an error on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// usageError is a bad command line.
type usageError string

func (u usageError) Error() string { return string(u) }
