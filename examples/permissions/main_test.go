package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The example must keep showing what it promises: alice's reads pass with
// one permission token, her write is refused by the service (403), the
// permission service refuses a service she has no permissions on and an
// unknown session, and no secret or token is printed.
func TestPermissionsExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"-> 200 orders of alice (permissions orders:read)",
		"-> 403 needs permission orders:write",
		"no token for billing",
		"permission tokens issued: 1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "-> 200"); n != 3 {
		t.Errorf("%d answers 200; want 3:\n%s", n, s)
	}
	if strings.Contains(s, "demo-secret") || strings.Contains(s, "eyJ") || strings.Contains(s, "no-such-session") {
		t.Errorf("output shows a secret or a token:\n%s", s)
	}
}
