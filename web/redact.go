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

// String shows the Login by its Config, without secrets: printing a *Login
// with any verb, or logging it, never shows the client or session secret.
func (l *Login) String() string { return "web.Login{" + l.cfg.String() + "}" }

// Format prints String for every verb.
func (l *Login) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue logs String.
func (l *Login) LogValue() slog.Value { return slog.StringValue(l.String()) }
