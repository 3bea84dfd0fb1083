package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals end a run early: SIGINT (Ctrl-C), SIGTERM and SIGHUP cancel
// the run's context, so that every deferred clean-up runs (the terminal's
// echo restored, the cache lock released, a child curl killed), and the
// process exits 128 + the signal's number. A signal ignored when the
// process started (nohup, a background job of a script) stays ignored.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "interrupted by " + signalName(e.sig) }

// exitCode is the shell's convention for a process ended by a signal.
func (e signalError) exitCode() int { return 128 + int(e.sig) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// withSignals returns a context cancelled, with a [signalError] as its
// cause, by the first of [stopSignals] not ignored. After that first signal the
// default action is back: a second one ends the process at once. stop
// releases the signals; the goroutine it starts lives until the first
// signal or stop.
func withSignals(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	for _, sig := range stopSignals {
		if !signal.Ignored(sig) {
			signal.Notify(ch, sig)
		}
	}
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			sig, _ := s.(syscall.Signal)
			cancel(signalError{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(context.Canceled)
	}
}

// interrupted is the signal that cancelled ctx, if one did.
func interrupted(ctx context.Context) (signalError, bool) {
	if ctx.Err() == nil {
		return signalError{}, false
	}
	e, ok := context.Cause(ctx).(signalError)
	return e, ok
}
