package web

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkProbeDenyListAdd: every add scans every entry for expiry, so n
// sign-outs within a session lifetime cost O(n²) in total. Report the cost
// of one add with b.N entries already held.
func BenchmarkProbeDenyListAdd(b *testing.B) {
	d := newDenyList(12 * time.Hour)
	now := time.Unix(1_800_000_000, 0)
	for i := range 20000 {
		d.denySession(strconv.Itoa(i), now)
	}
	b.ResetTimer()
	for i := range b.N {
		d.denySession("x"+strconv.Itoa(i), now)
	}
}

// TestProbeDenyListStillExpires: entries older than the session lifetime
// are dropped (on a later add).
func TestProbeDenyListStillExpires(t *testing.T) {
	d := newDenyList(time.Hour)
	now := time.Unix(1_800_000_000, 0)
	d.denySession("old", now)
	d.denySession("new", now.Add(2*time.Hour))
	if _, ok := d.sessions["old"]; ok {
		t.Error("an entry older than the lifetime is kept")
	}
	if _, ok := d.sessions["new"]; !ok {
		t.Error("the new entry is missing")
	}
}
