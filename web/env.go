package web

import (
	"os"
	"strconv"
	"strings"

	"github.com/seed-d44eba79/authorizer/data"
)

// ConfigFromEnv reads a Config from the environment variables of the seed's
// ags_client middleware, under prefix (e.g. "AGS_CLIENT" reads
// AGS_CLIENT_ISSUER), so a deployment moves over with its environment
// unchanged:
//
//	PREFIX_ISSUER                 Config.Issuer
//	PREFIX_ID, PREFIX_SECRET      Config.Client
//	PREFIX_AUTHENTICATED_PATHS    Config.ProtectedPaths, comma- or space-separated
//	PREFIX_SIGN_OUT_PATH          Config.SignOutPath (default sign-out)
//	PREFIX_CALLBACK_PATH          Config.CallbackPath (default oidc_callback)
//	PREFIX_SESSION_COOKIE         Config.CookieName (default ags_client_session
//	                              for the AGS_CLIENT prefix, else DefaultCookieName)
//	PREFIX_SESSION_SECRET         Config.SessionSecret (no default)
//	PREFIX_VERIFY_SSL             "false" or "0": refused (see below)
//	PREFIX_FEATURE_FLAG           the seed's feature-flag name; with
//	PREFIX_FEATURE_FLAG_DEFAULT   "off"/"false"/"0": Config.Disabled
//
// and the settings the seed did not have:
//
//	PREFIX_EXTERNAL_URL           Config.ExternalURL (required: the seed used the Host header)
//	PREFIX_OLD_SESSION_SECRETS    Config.OlderSessionSecrets, comma-separated
//	PREFIX_SCOPES                 Config.Scopes, space-separated
//	PREFIX_BACKCHANNEL_LOGOUT_PATH Config.BackChannelLogoutPath
//	PREFIX_IDENTITY_HEADERS       "true": Config.IdentityHeaders
//	PREFIX_DISABLED               "true": Config.Disabled
//	PREFIX_INSECURE_ALLOW_HTTP    "true": Config.InsecureAllowHTTP
//
// VERIFY_SSL=false turned off certificate checks in the seed; here it makes
// New fail (set a Config.HTTPClient with your own roots instead), because a
// sign-in whose provider is not authenticated is not a sign-in. Nothing is
// checked here: New checks the Config.
func ConfigFromEnv(prefix string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(os.Getenv(prefix + "_" + name)) }
	c := Config{
		Issuer:                get("ISSUER"),
		Client:                data.ClientInfo{ClientID: get("ID"), ClientSecret: get("SECRET")},
		ExternalURL:           get("EXTERNAL_URL"),
		ProtectedPaths:        fields(get("AUTHENTICATED_PATHS"), ", \t\n"),
		SignOutPath:           or(get("SIGN_OUT_PATH"), "sign-out"),
		CallbackPath:          or(get("CALLBACK_PATH"), "oidc_callback"),
		BackChannelLogoutPath: get("BACKCHANNEL_LOGOUT_PATH"),
		CookieName:            get("SESSION_COOKIE"),
		SessionSecret:         os.Getenv(prefix + "_SESSION_SECRET"),
		OlderSessionSecrets:   fields(os.Getenv(prefix+"_OLD_SESSION_SECRETS"), ","),
		Scopes:                fields(get("SCOPES"), " "),
		IdentityHeaders:       truthy(get("IDENTITY_HEADERS")),
		Disabled:              truthy(get("DISABLED")),
		InsecureAllowHTTP:     truthy(get("INSECURE_ALLOW_HTTP")),
	}
	if c.CookieName == "" && prefix == "AGS_CLIENT" {
		c.CookieName = "ags_client_session"
	}
	if get("FEATURE_FLAG") != "" && falsy(get("FEATURE_FLAG_DEFAULT")) {
		c.Disabled = true
	}
	if v := get("VERIFY_SSL"); v != "" && falsy(v) {
		return c, invalid("HTTPClient", "("+prefix+"_VERIFY_SSL=false) is not supported: give an HTTPClient that trusts your provider's certificate")
	}
	return c, nil
}

func fields(s, seps string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truthy(s string) bool { b, err := strconv.ParseBool(s); return err == nil && b }

func falsy(s string) bool {
	if strings.EqualFold(s, "off") || strings.EqualFold(s, "no") {
		return true
	}
	b, err := strconv.ParseBool(s)
	return err == nil && !b
}
