package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The quickstart must keep showing what README promises.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"REDACTED", "token fetched while the caller waited", "token refreshed in the background",
		"token refused by the API (401)", "token requests: 3,",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, secret := range []string{"demo-secret", "demo-api-key"} {
		if strings.Contains(s, secret) {
			t.Errorf("output shows secret %q", secret)
		}
	}
}
