package main

import (
	"runtime/debug"
	"testing"
)

// pinnedOAuth2 is the x/oauth2 version whose known behaviour the smoke test
// uses to check that the harness sees a failure (go.mod pins it).
const pinnedOAuth2 = "v0.37.0"

// peerHas checks a behaviour x/oauth2 is known to have at version pinned:
// at that version its absence means the harness cannot see what it
// measures (an error); at any other version upstream may have changed it
// (golang/oauth2#804 and others), so the test only logs it.
func peerHas(t *testing.T, pinned string, has bool, format string, args ...any) {
	t.Helper()
	switch v := moduleVersion("golang.org/x/oauth2"); {
	case has:
		t.Logf("harness sees it: "+format, args...)
	case v == pinned:
		t.Errorf("harness cannot see it at x/oauth2 %s: "+format, append([]any{v}, args...)...)
	default:
		t.Logf("x/oauth2 %s (pinned %s) no longer shows it: "+format, append([]any{v, pinned}, args...)...)
	}
}

// moduleVersion is the version of module path in this binary's build
// info, or "" when unknown.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return ""
}
