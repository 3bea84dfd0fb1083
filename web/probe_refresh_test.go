package web

import (
	"net/http"
	"testing"
	"time"
)

// TestProbeHeldIdentityStopsRefreshingAfterLogout: an app that keeps the
// Identity (a background job) must not go on refreshing the user's tokens
// once the user signed out or was logged out by the provider.
func TestProbeHeldIdentityStopsRefreshingAfterLogout(t *testing.T) {
	for _, how := range []string{"sign-out", "back-channel"} {
		t.Run(how, func(t *testing.T) {
			rg := newRig(t, nil)
			c := rg.signIn()
			id, _ := IdentityFrom(rg.seen.Load().Context())
			switch how {
			case "sign-out":
				if resp := rg.signOut(c, rg.app.URL); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("sign-out: %d", resp.StatusCode)
				}
			default:
				if got := rg.backChannel(rg.idp.logoutToken("alice", "sid-alice", nil)); got != 200 {
					t.Fatalf("logout: %d", got)
				}
			}
			rg.clock.Add(10 * time.Minute)
			before := rg.idp.refreshGrants.Load()
			if _, err := id.Authorize(t.Context()); err == nil {
				t.Errorf("the held Identity still gets tokens after %s", how)
			}
			if got := rg.idp.refreshGrants.Load() - before; got != 0 {
				t.Errorf("%d refresh grants after %s", got, how)
			}
		})
	}
}

// TestProbeRefreshWithAnotherSubjectEndsSession: a refresh answer whose ID
// token names another user ends the session instead of switching users.
func TestProbeRefreshWithAnotherSubjectEndsSession(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	rg.idp.editID = func(m map[string]any) { m["sub"] = "mallory" }
	rg.clock.Add(10 * time.Minute)
	if status, body := rg.get(noFollow(c), "/private/x"); status != http.StatusFound {
		t.Errorf("after a refresh naming another subject: %d %q; want the login redirect", status, body)
	}
}
