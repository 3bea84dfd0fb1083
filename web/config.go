package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
)

// Defaults of the Config fields.
const (
	DefaultCallbackPath          = "/oidc_callback"
	DefaultSignOutPath           = "/sign-out"
	DefaultBackChannelLogoutPath = "/backchannel-logout"
	DefaultCookieName            = "web_session"
	DefaultSessionLifetime       = 12 * time.Hour
	// MinSecretLength is the shortest session secret New accepts, in bytes.
	MinSecretLength = 32
)

// Config configures a Login. Fields say whether they are required and what
// their default is; New refuses a value it cannot use with an
// *[authorizer.InvalidConfigError] naming the field.
type Config struct {
	// Issuer is the OpenID provider's issuer URL; its discovery document
	// is read on the first request that needs it. Required. https, or
	// http to a loopback host (any host with InsecureAllowHTTP).
	Issuer string
	// Client is the app's client at the provider. Required: ClientID.
	// ClientSecret is optional (a public client uses PKCE alone).
	Client data.ClientInfo
	// ExternalURL is the app's origin as browsers see it, e.g.
	// "https://app.example.com" (no path: the app is served from /); the
	// redirect URI and the post-logout URI
	// are built from it, never from a request's Host header. Required;
	// https, or http to a loopback host (any host with InsecureAllowHTTP),
	// in which case cookies are not Secure and have no __Host- prefix.
	ExternalURL string
	// ProtectedPaths are the paths that need a signed-in user. A path
	// ending in "/" protects everything under it ("/admin/"; "/" protects
	// all); "=/x" protects exactly /x; any other path protects itself
	// with or without one trailing slash (the seed's rule: "/account"
	// protects /account and /account/). Optional; none by default.
	ProtectedPaths []string
	// CallbackPath is the redirect URI's path. Optional; default
	// DefaultCallbackPath.
	CallbackPath string
	// SignOutPath takes the sign-out POST and the return from the
	// provider's logout. Optional; default DefaultSignOutPath.
	SignOutPath string
	// BackChannelLogoutPath takes back-channel logout tokens. Optional;
	// default DefaultBackChannelLogoutPath.
	BackChannelLogoutPath string
	// Scopes are requested at login. Optional; default openid, email,
	// profile, offline_access. openid is added when missing.
	Scopes []string
	// SessionSecret seals sessions and flows. Required: at least
	// MinSecretLength bytes. There is no default.
	SessionSecret string
	// OlderSessionSecrets are still accepted for opening cookies, so a
	// secret can be rotated without signing everyone out. Optional.
	OlderSessionSecrets []string
	// CookieName names the session cookie (and prefixes the flow
	// cookies). Optional; default DefaultCookieName. With an https
	// ExternalURL the name gets the __Host- prefix.
	CookieName string
	// SessionLifetime bounds a session from sign-in. Optional; default
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// SessionStore keeps sessions on the server; the cookie then carries
	// only a sealed session id. Optional; default none (cookie sessions).
	// A store shared by replicas should also be a [SessionLocker] and a
	// [SessionReplacer] (see "Refresh" in the package doc).
	SessionStore SessionStore
	// IdentityHeaders sets X-Forwarded-User and X-Forwarded-Email on the
	// request the app receives; an inbound request's own copies are
	// always removed first. Optional; default off.
	IdentityHeaders bool
	// Disabled is the kill switch: Wrap returns the app unwrapped (with
	// IdentityHeaders, only the inbound identity headers removed), and
	// New logs it as a warning. Configuration only: no request can switch
	// it.
	Disabled bool
	// InsecureAllowHTTP accepts plain-http Issuer and ExternalURL on any
	// host.
	InsecureAllowHTTP bool
	// HTTPClient sends discovery, key and token requests. Optional; nil
	// means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives the middleware's logs (never a token, code, state,
	// nonce or cookie value). Optional; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock. Optional; nil means time.Now.
	Now func() time.Time
}

func invalid(field, problem string) error {
	return &authorizer.InvalidConfigError{Setting: "web: Config." + field, Problem: problem}
}

// checkConfig validates c and fills in the defaults.
func checkConfig(c Config) (Config, error) {
	rule := endpoint.Rule{AllowHTTP: c.InsecureAllowHTTP}
	if c.Issuer == "" {
		return c, invalid("Issuer", "is empty")
	}
	if p := endpoint.Check(c.Issuer, rule); p != endpoint.OK {
		return c, invalid("Issuer", p.Explain("web: Config.InsecureAllowHTTP"))
	}
	if c.Client.ClientID == "" {
		return c, invalid("Client.ClientID", "is empty")
	}
	if c.ExternalURL == "" {
		return c, invalid("ExternalURL", "is empty (the redirect URI is never built from the Host header)")
	}
	if p := endpoint.Check(c.ExternalURL, rule); p != endpoint.OK {
		return c, invalid("ExternalURL", p.Explain("web: Config.InsecureAllowHTTP"))
	}
	if u, _ := url.Parse(c.ExternalURL); u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return c, invalid("ExternalURL", "is not an origin (scheme and host only; the middleware's paths start at /)")
	}
	// Scheme and host compared as browsers write them: "HTTPS://App.Example"
	// is an https origin (Secure, __Host- cookies) whose Origin header reads
	// "https://app.example".
	u, _ := url.Parse(c.ExternalURL)
	c.ExternalURL = u.Scheme + "://" + strings.ToLower(u.Host)
	if len(c.SessionSecret) < MinSecretLength {
		return c, invalid("SessionSecret", "is shorter than 32 bytes (there is no default secret)")
	}
	for _, s := range c.OlderSessionSecrets {
		if len(s) < MinSecretLength {
			return c, invalid("OlderSessionSecrets", "holds a secret shorter than 32 bytes")
		}
	}
	var err error
	if c.CallbackPath, err = checkPath("CallbackPath", c.CallbackPath, DefaultCallbackPath); err != nil {
		return c, err
	}
	if c.SignOutPath, err = checkPath("SignOutPath", c.SignOutPath, DefaultSignOutPath); err != nil {
		return c, err
	}
	if c.BackChannelLogoutPath, err = checkPath("BackChannelLogoutPath", c.BackChannelLogoutPath, DefaultBackChannelLogoutPath); err != nil {
		return c, err
	}
	return checkRest(c)
}

func checkRest(c Config) (Config, error) {
	for _, p := range c.ProtectedPaths {
		if _, err := parseRule(p); err != nil {
			return c, invalid("ProtectedPaths", err.Error())
		}
	}
	if c.CookieName == "" {
		c.CookieName = DefaultCookieName
	}
	if !validCookieName(c.CookieName) {
		return c, invalid("CookieName", "is not a valid cookie name (letters, digits, - and _)")
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.SessionLifetime < 0 {
		return c, invalid("SessionLifetime", "is negative")
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile", "offline_access"}
	}
	if !contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkPath accepts an absolute path or a seed-style relative one
// ("sign-out" is "/sign-out").
func checkPath(field, p, def string) (string, error) {
	if p == "" {
		return def, nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if cleanPath(p) != p || strings.ContainsAny(p, "?#%") {
		return "", invalid(field, "is not a clean path")
	}
	return p, nil
}

func validCookieName(n string) bool {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return n != ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
