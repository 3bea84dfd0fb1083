package base

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// emit reports e to the hook and the logger. Events carry no token and no
// secret; their errors are the SDK's typed errors, whose messages carry
// none either.
func (t *Transport) emit(e Event) {
	defer recoverObserver(e)
	if t.cfg.hook != nil {
		t.cfg.hook(e)
	}
	if t.cfg.logger == nil {
		return
	}
	level := slog.LevelDebug
	attrs := []slog.Attr{slog.String("event", e.Kind.String())}
	if e.Duration > 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if !e.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", e.Expiry))
	}
	if !e.Until.IsZero() {
		attrs = append(attrs, slog.Time("until", e.Until))
	}
	if e.Err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.String("error", e.Err.Error()))
	}
	attrs = append(attrs, slog.Bool("background", e.Background))
	t.cfg.logger.LogAttrs(context.Background(), level, "authorizer: token "+e.Kind.String(), attrs...)
}

// log writes one record when a logger is set.
func (t *Transport) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if t.cfg.logger != nil {
		t.cfg.logger.LogAttrs(context.Background(), level, "authorizer: "+msg, attrs...)
	}
}

// emitBackoff reports the backoff that follows a failure.
func (t *Transport) emitBackoff(attempt int, err error) {
	t.emit(Event{Kind: EventBackoff, Until: t.start.Add(time.Duration(t.retryAt.Load())), Attempt: attempt, Err: err})
}

// recoverObserver recovers a panic of the hook or of the logger's handler
// while emitting e: they run on the Transport's own goroutine too, where a
// panic would end the process, and a broken observer must not fail the
// request that caused the event. The panic is logged to slog.Default,
// since the configured logger may be what panicked.
func recoverObserver(e Event) {
	if p := recover(); p != nil {
		slog.Default().LogAttrs(context.Background(), slog.LevelError, "authorizer: hook or logger panicked",
			slog.String("event", e.Kind.String()), slog.String("panic", fmt.Sprintf("%T", p)),
			slog.String("stack", string(debug.Stack())))
	}
}
