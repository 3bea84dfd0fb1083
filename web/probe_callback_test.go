package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestProbeCallbackIssAndReplay: a doubled or foreign iss is refused before
// the code is redeemed; the same callback replayed with its flow cookie
// (captured) redeems nothing new and signs nobody in; the ID token must
// name this client as azp when it has several audiences.
func TestProbeCallbackIssAndReplay(t *testing.T) {
	rg := newRig(t, nil)
	for _, iss := range [][]string{{"https://evil.example"}, {rg.idp.issuer(), rg.idp.issuer()}, {""}, {rg.idp.issuer() + "/"}} {
		c := rg.browser()
		back := startFlow(t, rg, c)
		q := back.Query()
		q["iss"] = iss
		back.RawQuery = q.Encode()
		before := rg.idp.codeGrants.Load()
		resp, err := noFollow(c).Get(back.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || rg.idp.codeGrants.Load() != before {
			t.Errorf("iss %q: %d, %d codes redeemed; want 400 before redeeming", iss, resp.StatusCode, rg.idp.codeGrants.Load()-before)
		}
	}
	// Replay: keep the flow cookie the browser had, run the callback twice.
	c := rg.browser()
	back := startFlow(t, rg, c)
	u, _ := url.Parse(rg.app.URL)
	flowCookies := c.Jar.Cookies(u)
	resp, _ := noFollow(c).Get(back.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	attacker := rg.browser()
	attacker.Jar.SetCookies(u, flowCookies)
	resp, _ = noFollow(attacker).Get(back.String())
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Errorf("a replayed callback with a captured flow cookie signed in again")
	}
}

func TestProbeIDTokenAzp(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		ok   bool
	}{
		{"several audiences, no azp", func(m map[string]any) { m["aud"] = []string{"web-app", "other"}; delete(m, "azp") }, false},
		{"several audiences, azp us", func(m map[string]any) { m["aud"] = []string{"web-app", "other"} }, true},
		{"azp another client", func(m map[string]any) { m["azp"] = "other" }, false},
		{"no sub", func(m map[string]any) { delete(m, "sub") }, false},
		{"nonce as a number", func(m map[string]any) { m["nonce"] = 1 }, false},
		{"expired", func(m map[string]any) { m["exp"] = 1 }, false},
		{"iss with a trailing slash", func(m map[string]any) { m["iss"] = m["iss"].(string) + "/" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := newRig(t, func(_ *Config, f *fakeIdP) { f.editID = tc.edit })
			status, body := rg.get(rg.browser(), "/private/page")
			if ok := status == 200 && strings.HasPrefix(body, "hello"); ok != tc.ok {
				t.Errorf("signed in %v (%d); want %v", ok, status, tc.ok)
			}
		})
	}
}
