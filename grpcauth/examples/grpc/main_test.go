package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The example keeps showing what it promises, and prints no secret.
func TestGRPCExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"caller [orders-reporter]", "50 concurrent Checks: 50 served",
		"Watch without orders:write: PermissionDenied",
		"no token: Unauthenticated (grpcauth: missing bearer token)",
		"forged token: Unauthenticated (grpcauth: invalid token)",
		"token requests: 1, key fetches: 1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "demo-secret") || strings.Contains(s, "eyJ") {
		t.Errorf("output holds a secret or token:\n%s", s)
	}
}
