package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The example must keep showing what it promises: one token request, one
// key fetch for every call, 403 for a missing scope, 401 for bad tokens,
// and no secret or token in its output.
func TestVerifyExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"REDACTED", "orders for orders-reporter (scopes orders:read)",
		`403 in`, `error="insufficient_scope", scope="orders:write"`,
		`error="invalid_token"`, "token requests: 1, key fetches: 1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "-> 401"); n != 3 {
		t.Errorf("%d answers 401; want 3 (no token, forged, expired):\n%s", n, s)
	}
	if strings.Contains(s, "demo-secret") || strings.Contains(s, "eyJ") {
		t.Errorf("output shows a secret or a token:\n%s", s)
	}
}
