package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runInfoOut(t *testing.T, tok string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "empty.json") // no environment configured
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	code := run(context.Background(), []string{"info", "--config", cfg, tok}, &out, &errb)
	return out.String() + errb.String(), code
}

// An exp claim that is there but no NumericDate was shown as "never (no exp
// claim)" and the token passed as valid (exit 0).
func TestBreakInfoExpNotANumber(t *testing.T) {
	for _, claims := range []string{`{"exp":"1"}`, `{"exp":1e400}`, `{"exp":null}`, `{"exp":true}`} {
		tok := jwtPart(`{"alg":"none"}`) + "." + jwtPart(claims) + ".x"
		out, code := runInfoOut(t, tok)
		if code != exitFailed || strings.Contains(out, "no exp claim") {
			t.Errorf("%s: exit %d, %q; want exit 1, not \"no exp claim\"", claims, code, out)
		}
	}
	// A fractional NumericDate is allowed (RFC 7519 §2).
	tok := jwtPart(`{"alg":"none"}`) + "." + jwtPart(`{"exp":99999999999.5}`) + ".x"
	if out, code := runInfoOut(t, tok); code != exitUnverified || !strings.Contains(out, "Z (") {
		t.Errorf("fractional exp: exit %d, %q", code, out)
	}
}

// Claims must not drive the terminal: C0 controls are JSON-escaped by
// encoding/json, C1 controls (U+009B is CSI) and bidi overrides were not.
func TestBreakInfoClaimsCannotDriveTerminal(t *testing.T) {
	tok := jwtPart(`{"alg":"none","kid":"\u001b[2J"}`) + "." +
		jwtPart(`{"sub":"\u009b31mred\u202egnp.exe","x":"\u001b]0;title\u0007","exp":99999999999}`) + ".x"
	out, _ := runInfoOut(t, tok)
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Fatalf("info output holds the raw control U+%04X: %q", r, out)
		}
	}
	// What is printed is still the same JSON.
	i := strings.Index(out, "claims: ")
	j := strings.Index(out, "\nexpires:")
	var m map[string]any
	if err := json.Unmarshal([]byte(out[i+len("claims: "):j]), &m); err != nil || m["sub"] != "\u009b31mred\u202egnp.exe" {
		t.Errorf("claims JSON changed: %v %v", err, m)
	}
}

// A token whose signature could not be checked (unknown issuer) passes
// `info` with exit 0, the status README documents as "valid": a script
// `authorizer info "$T" && trust` accepts any forged token that names an
// issuer not configured.
func TestBreakInfoUnverifiedIsNotValid(t *testing.T) {
	tok := jwtPart(`{"alg":"none"}`) + "." + jwtPart(`{"iss":"https://forged.example","exp":99999999999}`) + ".x"
	if _, code := runInfoOut(t, tok); code != exitUnverified {
		t.Errorf("a forged, unverified token exits %d; want %d (not verified)", code, exitUnverified)
	}
}
