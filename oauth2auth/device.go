package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// deviceGrantType is RFC 8628 §3.4's grant type.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// pollMargin returns what is added to every polling wait (a tenth of the
// interval, at most a second), so that clock skew and network delay never
// make a poll arrive before the server's interval has passed (which would
// earn a slow_down).
func pollMargin(interval time.Duration) time.Duration { return min(interval/10, time.Second) }

// minDeviceInterval is the shortest interval honoured, whatever a server
// says.
const minDeviceInterval = time.Second

// slowDownStep is what RFC 8628 §3.5 adds to the interval on slow_down.
const slowDownStep = 5 * time.Second

// DeviceAuthorizer signs a user in with the OAuth 2.0 device authorization
// grant (RFC 8628): the user opens a web page on any device, enters a short
// code and approves, while this program polls the token endpoint. It suits
// tools without a browser at hand (SSH sessions, containers).
//
// It implements [base.Authorizer] and is safe for concurrent use. Authorize
// returns a cached token when there is one (see [WithTokenCache]), refreshes
// it when it has expired, and prompts the user otherwise. ctx bounds the
// whole sign-in, polling included.
//
// Printing: fmt, slog and encoding/json show the flow and client id, never
// a secret or a token.
type DeviceAuthorizer struct {
	*userSession // behind a pointer, so that printing a copy shows no secret
}

var (
	_ base.Authorizer   = (*DeviceAuthorizer)(nil)
	_ base.ClientInfoer = (*DeviceAuthorizer)(nil)
)

// NewDeviceAuthorizer returns a DeviceAuthorizer for the client info at the
// provider env. env needs DeviceAuthURL and TokenURL, or an Issuer to
// discover them from. The client is usually public (no secret); a
// confidential one authenticates at the device authorization, token and
// revocation endpoints alike ([WithClientAuth], [WithPrivateKeyJWT]).
// Errors are *[authorizer.InvalidConfigError], also for an option of
// another flow (e.g. [WithBrowserOpener]).
func NewDeviceAuthorizer(info data.ClientInfo, env Environment, opts ...Option) (*DeviceAuthorizer, error) {
	s, err := newUserSession(info, env, flowDevice, opts)
	if err != nil {
		return nil, err
	}
	a := &DeviceAuthorizer{s}
	a.signIn = a.deviceSignIn
	if a.o.user.devicePrompt == nil {
		a.o.user.devicePrompt = DevicePromptWriter(stderr)
	}
	return a, nil
}

// deviceSignIn runs one device authorization: request a code, show it,
// poll until the user approves.
func (a *DeviceAuthorizer) deviceSignIn(ctx context.Context, env *Environment) (*oauth2.Token, string, error) {
	if a.o.user.signInTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.o.user.signInTimeout)
		defer cancel()
	}
	da, err := a.requestDeviceCode(ctx, env)
	if err != nil {
		return nil, "", err
	}
	if err := a.o.user.devicePrompt(ctx, da.prompt); err != nil {
		return nil, "", &authorizer.AuthorizationError{Message: "oauth2auth: the device prompt failed", Err: err}
	}
	tok, err := a.poll(ctx, env, da, a.sessionKey())
	return tok, "", err
}

// requestDeviceCode makes the device authorization request (RFC 8628 §3.1).
func (a *DeviceAuthorizer) requestDeviceCode(ctx context.Context, env *Environment) (*deviceAuth, error) {
	req := a.o.request(a.info, "device authorization", env.DeviceAuthURL)
	req.Form = a.grantParams(env)
	ans, err := tokenwire.Send(ctx, req)
	if err != nil {
		return nil, err
	}
	if ans.Status < 200 || ans.Status > 299 {
		return nil, req.Refusal(ans)
	}
	return parseDeviceAuth(ans.Status, ans.Header, ans.Body, ans.Sent)
}

// poll asks the token endpoint for the token until the user approves,
// refuses, or the code expires (RFC 8628 §3.4, §3.5).
func (a *DeviceAuthorizer) poll(ctx context.Context, env *Environment, da *deviceAuth, key *dpop.Key) (*oauth2.Token, error) {
	interval := a.pollInterval(da.interval)
	form := url.Values{"grant_type": {deviceGrantType}, "device_code": {da.deviceCode}}
	for {
		if !a.o.now().Add(interval).Before(da.prompt.ExpiresAt) {
			return nil, &authorizer.AuthorizationError{Code: "expired_token",
				Message: "oauth2auth: the device code expired before the user approved"}
		}
		if err := sleep(ctx, interval+pollMargin(interval)); err != nil {
			return nil, wireError(ctx, "device sign-in interrupted", err)
		}
		tok, err := a.tokenRequestKey(ctx, env, form, key)
		if err == nil {
			return tok, nil
		}
		next, retry := nextInterval(err, interval)
		if !retry {
			return nil, err
		}
		interval = next
	}
}

// pollInterval is the server's interval (at least minDeviceInterval), or
// RFC 8628's 5 s default when the server sent none. Tests replace both the
// default and the minimum with withPollInterval.
func (a *DeviceAuthorizer) pollInterval(server time.Duration) time.Duration {
	def, floor := defaultDeviceInterval, minDeviceInterval
	if a.o.user.pollInterval > 0 {
		def, floor = a.o.user.pollInterval, a.o.user.pollInterval
	}
	if server <= 0 {
		return def
	}
	return max(server, floor)
}

// nextInterval decides, from a token request's error, whether to poll again
// and how long to wait.
func nextInterval(err error, interval time.Duration) (time.Duration, bool) {
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) {
		return 0, false
	}
	switch {
	case ae.Code == "authorization_pending":
		return interval, true
	case ae.Code == "slow_down":
		return interval + slowDownStep, true
	case ae.Code == "" && ae.Temporary():
		// A network failure or 5xx: RFC 8628 §3.5 asks for backing off.
		return min(2*interval, maxDeviceInterval), true
	}
	return 0, false // expired_token, access_denied, anything else: stop
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DevicePromptWriter returns a DevicePrompter that writes a short message
// to w (e.g. os.Stderr), with the direct link when the server gives one.
func DevicePromptWriter(w io.Writer) DevicePrompter {
	return func(_ context.Context, p DevicePrompt) error {
		var b strings.Builder
		fmt.Fprintf(&b, "To sign in, open %s and enter the code %s\n", p.VerificationURI, p.UserCode)
		if p.VerificationURIComplete != "" {
			fmt.Fprintf(&b, "or open %s directly\n", p.VerificationURIComplete)
		}
		if mins := int(time.Until(p.ExpiresAt).Round(time.Minute) / time.Minute); mins > 0 {
			fmt.Fprintf(&b, "(the code expires in %d minutes)\n", mins)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
}
