package oauth2auth

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// Limits on the device authorization response (RFC 8628 §3.2).
const (
	// defaultDeviceInterval is the polling interval when the server sends
	// none (RFC 8628 §3.5: "the client MUST use 5 as the default").
	defaultDeviceInterval = 5 * time.Second
	// maxDeviceInterval caps a server's interval.
	maxDeviceInterval = 5 * time.Minute
	// defaultDeviceExpiry is used when expires_in is missing.
	defaultDeviceExpiry = 10 * time.Minute
	// maxDeviceExpiry caps expires_in.
	maxDeviceExpiry = 24 * time.Hour
	// maxDeviceField caps the length of a string field.
	maxDeviceField = 2048
)

// deviceAuth is a parsed device authorization response.
type deviceAuth struct {
	deviceCode string // secret: never logged
	prompt     DevicePrompt
	interval   time.Duration // 0: the server sent none
}

// deviceAuthJSON is the wire form. Numbers are json.Number so that strings
// and floats from odd servers are tolerated.
type deviceAuthJSON struct {
	DeviceCode              string      `json:"device_code"`
	UserCode                string      `json:"user_code"`
	VerificationURI         string      `json:"verification_uri"`
	VerificationURL         string      `json:"verification_url"` // pre-RFC Google spelling
	VerificationURIComplete string      `json:"verification_uri_complete"`
	ExpiresIn               json.Number `json:"expires_in"`
	Interval                json.Number `json:"interval"`
}

// parseDeviceAuth turns the device authorization endpoint's answer into a
// deviceAuth or a typed error. now is when the request was sent. It never
// panics; error messages quote no code.
func parseDeviceAuth(status int, header http.Header, body []byte, now time.Time) (*deviceAuth, error) {
	if status < 200 || status > 299 {
		_, err := tokenwire.ParseResponse(status, header, body, now, 0)
		return nil, err
	}
	var w deviceAuthJSON
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, deviceResponseError(status, "cannot be decoded as JSON", err)
	}
	if w.VerificationURI == "" {
		w.VerificationURI = w.VerificationURL
	}
	if err := checkDeviceFields(&w); err != nil {
		return nil, deviceResponseError(status, err.Error(), nil)
	}
	expiresIn, ok := seconds(w.ExpiresIn, defaultDeviceExpiry, maxDeviceExpiry)
	if !ok || expiresIn <= 0 {
		return nil, deviceResponseError(status, "has an invalid expires_in", nil)
	}
	interval, ok := seconds(w.Interval, 0, maxDeviceInterval)
	if !ok {
		return nil, deviceResponseError(status, "has an invalid interval", nil)
	}
	return &deviceAuth{deviceCode: w.DeviceCode, interval: interval, prompt: DevicePrompt{
		UserCode: w.UserCode, VerificationURI: w.VerificationURI,
		VerificationURIComplete: w.VerificationURIComplete, ExpiresAt: now.Add(expiresIn)}}, nil
}

// checkDeviceFields checks the required fields and that what will be shown
// to the user is printable and a web address.
func checkDeviceFields(w *deviceAuthJSON) error {
	switch {
	case w.DeviceCode == "" || len(w.DeviceCode) > maxDeviceField:
		return fmt.Errorf("has no usable device_code")
	case w.UserCode == "" || len(w.UserCode) > 64 || !printable(w.UserCode):
		return fmt.Errorf("has no usable user_code")
	case !webURL(w.VerificationURI):
		return fmt.Errorf("has no usable verification_uri (an https URL, or http to a loopback host)")
	case w.VerificationURIComplete != "" && !webURL(w.VerificationURIComplete):
		return fmt.Errorf("has an unusable verification_uri_complete")
	case w.VerificationURIComplete != "" && !sameOrigin(w.VerificationURI, w.VerificationURIComplete):
		return fmt.Errorf("has a verification_uri_complete on another host than its verification_uri")
	}
	return nil
}

// sameOrigin reports whether a and b have the same scheme and host.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

// printable reports whether s has no control characters (which could
// rewrite the user's terminal).
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// webURL reports whether s is safe to show the user as where to sign in:
// printable, and an https URL, or plain http to a loopback host (for
// tests), by the SDK's endpoint rule. Plain http elsewhere would let the
// network path swap the page the user types the code into.
func webURL(s string) bool {
	if s == "" || len(s) > maxDeviceField || !printable(s) {
		return false
	}
	return endpoint.Check(s, endpoint.Rule{}) == endpoint.OK
}

// seconds reads a JSON number of seconds; "" gives def; values above max
// are capped.
func seconds(n json.Number, def, maxD time.Duration) (time.Duration, bool) {
	if n == "" {
		return def, true
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, false
	}
	if f >= maxD.Seconds() {
		return maxD, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// deviceResponseError reports an unusable 2xx device authorization answer.
func deviceResponseError(status int, problem string, cause error) error {
	return &authorizer.AuthorizationError{StatusCode: status,
		Message: "oauth2auth: the device authorization response " + problem, Err: cause}
}
