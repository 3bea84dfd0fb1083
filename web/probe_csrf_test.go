package web

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

func (rg *rig) signOutWith(c *http.Client, header map[string]string) int {
	rg.t.Helper()
	req, _ := http.NewRequest("POST", rg.app.URL+"/sign-out", strings.NewReader("rd=%2Fbye"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noFollow(c).Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProbeSignOutCSRF(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	host := strings.TrimPrefix(rg.app.URL, "http://")
	for _, h := range []map[string]string{
		{"Origin": "null"},
		{"Origin": "null", "Referer": rg.app.URL + "/"},
		{"Origin": rg.app.URL + ".evil.example"},
		{"Origin": "https://" + host},
		{"Referer": "http://evil.example/?" + rg.app.URL},
		{"Referer": "http://" + host + "@evil.example/"},
		{"Referer": "http://" + host + ".evil.example/"},
		{"Referer": "//" + host + "/"},
		{"Referer": host},
		{},
	} {
		if got := rg.signOutWith(c, h); got != http.StatusForbidden {
			t.Errorf("sign-out with %v: %d; want 403", h, got)
		}
		if status, _ := rg.get(c, "/private/x"); status != 200 {
			t.Fatalf("signed out by %v", h)
		}
	}
	// A same-origin Referer without Origin (older browsers) signs out, and
	// the old cookie is refused afterwards.
	u, _ := url.Parse(rg.app.URL)
	old := c.Jar.Cookies(u)
	if got := rg.signOutWith(c, map[string]string{"Referer": rg.app.URL + "/page"}); got != http.StatusSeeOther {
		t.Fatalf("same-origin Referer: %d; want 303", got)
	}
	replay, _ := cookiejar.New(nil)
	replay.SetCookies(u, old)
	if status, _ := rg.get(noFollow(&http.Client{Jar: replay}), "/private/x"); status != http.StatusFound {
		t.Errorf("old session cookie after sign-out: %d; want the login redirect", status)
	}
}

// TestProbeSignOutReturnNeedsALogoutState: the GET return from the
// provider accepts only the state of a logout this browser started, not a
// login flow's state nor a guessed one.
func TestProbeSignOutReturnNeedsALogoutState(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.browser()
	resp, err := noFollow(c).Get(rg.app.URL + "/private/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	state := loc.Query().Get("state")
	for _, s := range []string{state, state[:16], state[:16] + strings.Repeat("A", len(state)-16), ""} {
		r, err := noFollow(c).Get(rg.app.URL + "/sign-out?state=" + url.QueryEscape(s))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("sign-out return with state %q…: %d; want 405", s[:min(len(s), 8)], r.StatusCode)
		}
	}
}

// TestProbeLoginCSRF: a callback the browser did not start is refused
// before any code is redeemed; a code from another login (code injection)
// fails PKCE.
func TestProbeLoginCSRF(t *testing.T) {
	rg := newRig(t, nil)
	start := func(c *http.Client) (state string) {
		resp, err := noFollow(c).Get(rg.app.URL + "/private/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("state")
	}
	codeOf := func(c *http.Client) (code, state string) {
		state = start(c)
		// run the provider's authorize without following back
		resp, err := noFollow(c).Get(rg.idp.issuer() + "/authorize?" + url.Values{
			"response_type": {"code"}, "code_challenge_method": {"S256"}, "code_challenge": {"x"},
			"redirect_uri": {rg.app.URL + "/oidc_callback"}, "state": {state}, "login_hint": {"mallory"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("code"), state
	}
	attacker := rg.browser()
	code, aState := codeOf(attacker)
	victim := rg.browser()
	vState := start(victim)
	before := rg.idp.codeGrants.Load()
	for _, q := range []string{
		"code=" + code + "&state=" + url.QueryEscape(aState), // the attacker's whole callback
		"code=" + code, // no state
		"code=" + code + "&state=" + url.QueryEscape(vState[:16]+strings.Repeat("A", len(vState)-16)),
	} {
		status, _ := rg.get(noFollow(victim), "/oidc_callback?"+q)
		if status != http.StatusBadRequest {
			t.Errorf("callback %q…: %d; want 400", q[:20], status)
		}
	}
	if got := rg.idp.codeGrants.Load(); got != before {
		t.Errorf("%d codes redeemed for callbacks the browser never started", got-before)
	}
	// The victim's own state with the attacker's code: PKCE fails at the provider.
	status, _ := rg.get(noFollow(victim), "/oidc_callback?code="+code+"&state="+url.QueryEscape(vState))
	if status == http.StatusFound {
		t.Errorf("code injection signed the victim in as the attacker")
	}
	if status, body := rg.get(noFollow(victim), "/public"); strings.Contains(body, "mallory") {
		t.Errorf("victim is mallory: %d %q", status, body)
	}
}
