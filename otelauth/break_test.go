package otelauth

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"go.opentelemetry.io/otel/attribute"
)

// A nil Option is an InvalidConfigError, not a panic.
func TestBreakNilOption(t *testing.T) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		_, err = New(nil)
	}()
	var ice *authorizer.InvalidConfigError
	if !errors.As(err, &ice) {
		t.Errorf("New(nil) = %v; want an *authorizer.InvalidConfigError", err)
	}
}

// Hostile events (nil error on a failure, negative durations, an expiry
// in the past, a backoff in the past) from many goroutines: no panic, no
// race, no negative backoff, and a caller's attribute slice changed after
// New does not change the Observer's.
func TestBreakHostileEventsConcurrently(t *testing.T) {
	kv := []attribute.KeyValue{attribute.String("provider", "p")}
	r := newRecorder(t, WithAttributes(kv...))
	kv[0] = attribute.String("provider", "CHANGED")
	events := []base.Event{
		{Kind: base.EventFailed},
		{Kind: base.EventFetched, Duration: -time.Second, Expiry: time.Now().Add(-time.Hour)},
		{Kind: base.EventBackoff, Until: time.Now().Add(-time.Hour)},
		{Kind: base.EventCacheHit, Background: true},
		{Kind: base.EventInvalidated},
		{Kind: base.EventKind(999)},
		{Kind: base.EventRefreshed, Duration: time.Hour * 1e5},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				r.obs.Hook(events[(g+i)%len(events)])
			}
		})
	}
	wg.Wait()
	sums, hists := r.collect(t)
	for k := range sums {
		if strings.Contains(k, "CHANGED") {
			t.Errorf("a caller's slice changed the Observer's attributes: %s", k)
		}
	}
	for k, h := range hists {
		if strings.HasPrefix(k, "authorizer.token.backoff.duration") {
			if m, ok := h.Min.Value(); ok && m < 0 {
				t.Errorf("negative backoff recorded: %v", m)
			}
		}
	}
	if len(sums) == 0 {
		t.Error("nothing recorded")
	}
}
