package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// $BROWSER is run as one command, never through a shell: metacharacters in
// it do nothing, the opener fails and the sign-in falls back to the device
// flow (here: to its configuration error, as there is no device endpoint).
func TestBreakBrowserNotRunThroughShell(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "pwned")
	c := newCLI(t, map[string]map[string]any{"me": {"flow": "browser", "auth_url": "http://127.0.0.1:1/auth",
		"token_url": "http://127.0.0.1:1/token", "client_id": "c"}},
		"BROWSER=touch "+mark+"; true", "DISPLAY=:0")
	_, errOut, code := c.run("login")
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("$BROWSER was run through a shell")
	}
	if code != exitConfig || !strings.Contains(errOut, "device code instead") {
		t.Errorf("login: exit %d, %q; want the device fallback", code, errOut)
	}
}
