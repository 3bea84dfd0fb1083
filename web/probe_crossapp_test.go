package web

import (
	"net/http/httptest"
	"testing"
)

// TestProbeSessionBoundToTheClient: two apps that share a SessionSecret and
// cookie name (staging and production, or two apps on one platform) must
// not accept each other's sessions: a user allowed only on app A would copy
// A's cookie into B and be signed in there with A's tokens.
func TestProbeSessionBoundToTheClient(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	cookies := sessionCookies(t, rg, c)
	cfg := rg.login.cfg
	cfg.Client.ClientID = "other-app"
	other, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	req := httptest.NewRequest("GET", "/", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	if _, err := other.loadSession(t.Context(), other.jar.readSession(req)); err == nil {
		t.Error("a session sealed for client web-app opens in an app with another client id")
	}
	// Another issuer with the same client id: its sessions' ID tokens
	// name another iss. Fails on the old code (it opened).
	cfg = rg.login.cfg
	cfg.Issuer = "https://staging.id.example"
	other2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other2.Close()
	if _, err := other2.loadSession(t.Context(), other2.jar.readSession(req)); err == nil {
		t.Error("a session from an app with the same client id at another issuer opens")
	}
}
