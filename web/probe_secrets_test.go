package web

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
)

// echoing is a transport that, once armed, answers token requests with an
// error whose description echoes the request's code, verifier and refresh
// token (providers do echo them).
type echoing struct {
	next  http.RoundTripper
	armed atomic.Bool
	mu    sync.Mutex
	seen  []string
}

func (e *echoing) RoundTrip(r *http.Request) (*http.Response, error) {
	if !e.armed.Load() || r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/token") {
		return e.next.RoundTrip(r)
	}
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	var echo []string
	for _, k := range []string{"code", "code_verifier", "refresh_token"} {
		if v := form.Get(k); v != "" {
			echo = append(echo, k+"="+v)
			e.mu.Lock()
			e.seen = append(e.seen, v)
			e.mu.Unlock()
		}
	}
	body := `{"error":"invalid_grant","error_description":"bad ` + strings.Join(echo, " ") + `"}`
	return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewBufferString(body)), Request: r}, nil
}

func TestProbeEchoedSecretsNeverLoggedOrShown(t *testing.T) {
	tr := &echoing{next: &http.Transport{}}
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.HTTPClient = &http.Client{Transport: tr, Timeout: 30 * time.Second} })
	c := rg.signIn()
	// A refused refresh whose error echoes the refresh token.
	tr.armed.Store(true)
	rg.clock.Add(10 * time.Minute)
	_, body1 := rg.get(noFollow(c), "/private/x")
	// A code redemption whose error echoes the code and verifier.
	b := rg.browser()
	status, body2 := rg.get(b, "/private/y")
	if status != http.StatusBadGateway {
		t.Logf("code redemption with an echoing error: %d", status)
	}
	tr.mu.Lock()
	seen := append([]string(nil), tr.seen...)
	tr.mu.Unlock()
	if len(seen) < 3 {
		t.Fatalf("only %d secrets sent to the echoing endpoint", len(seen))
	}
	logs := rg.logs.String()
	for _, s := range seen {
		if strings.Contains(logs, s) {
			t.Errorf("an echoed secret (%s) is in the log", data.Fingerprint(s))
		}
		if strings.Contains(body1, s) || strings.Contains(body2, s) {
			t.Errorf("an echoed secret (%s) is in a response body", data.Fingerprint(s))
		}
	}
}
