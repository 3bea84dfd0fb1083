// Package peertest gives tests the addresses of the real peers (oidc-provider,
// moto_server) that scripts/test.sh starts on 127.0.0.1.
//
// A test that needs a peer calls Env. When the variable is unset the test is
// skipped, unless AUTHORIZER_REQUIRE_PEERS=1 (set by scripts/test.sh and CI),
// in which case it fails: in CI a missing peer is a failure, not a skip.
package peertest

import (
	"os"
	"testing"
)

// Env returns the value of the environment variable name, which a peer
// script set, or skips (or, under AUTHORIZER_REQUIRE_PEERS=1, fails) t.
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("AUTHORIZER_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s is not set but AUTHORIZER_REQUIRE_PEERS=1: start the peers with scripts/test.sh", name)
	}
	t.Skipf("%s not set: run scripts/test.sh to start the real peers", name)
	return ""
}
