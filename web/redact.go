package web

import (
	"fmt"
	"log/slog"
)

// String shows the Config without its secrets (the session secrets and the
// client secret are redacted).
func (c Config) String() string {
	return fmt.Sprintf("web.Config{Issuer: %q, Client: %v, ExternalURL: %q, ProtectedPaths: %q, CallbackPath: %q, SignOutPath: %q, "+
		"BackChannelLogoutPath: %q, Scopes: %q, SessionSecret: %s, OlderSessionSecrets: %d, CookieName: %q, Disabled: %v, InsecureAllowHTTP: %v}",
		c.Issuer, c.Client, c.ExternalURL, c.ProtectedPaths, c.CallbackPath, c.SignOutPath, c.BackChannelLogoutPath, c.Scopes,
		redacted(c.SessionSecret), len(c.OlderSessionSecrets), c.CookieName, c.Disabled, c.InsecureAllowHTTP)
}

// Format prints String for every verb, so %#v shows no secret either.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue logs String.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "REDACTED"
}
