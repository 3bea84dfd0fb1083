package web

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
)

func TestConfigFromEnvReadsTheSeedVariables(t *testing.T) {
	for k, v := range map[string]string{
		"AGS_CLIENT_ISSUER": "https://id.example", "AGS_CLIENT_ID": "app", "AGS_CLIENT_SECRET": "client-secret-value",
		"AGS_CLIENT_AUTHENTICATED_PATHS": "/admin/, /account", "AGS_CLIENT_SESSION_SECRET": strings.Repeat("z", 32),
		"AGS_CLIENT_EXTERNAL_URL": "https://app.example", "AGS_CLIENT_OLD_SESSION_SECRETS": strings.Repeat("y", 32),
	} {
		t.Setenv(k, v)
	}
	c, err := ConfigFromEnv("AGS_CLIENT")
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://id.example" || c.Client.ClientID != "app" || c.Client.ClientSecret != "client-secret-value" ||
		fmt.Sprint(c.ProtectedPaths) != "[/admin/ /account]" || c.CookieName != "ags_client_session" ||
		c.SignOutPath != "sign-out" || c.CallbackPath != "oidc_callback" || len(c.OlderSessionSecrets) != 1 || c.Disabled {
		t.Errorf("config %v", c)
	}
	l, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.cfg.SignOutPath != "/sign-out" || l.cfg.CallbackPath != "/oidc_callback" || l.jar.name != "__Host-ags_client_session" {
		t.Errorf("paths %q %q, cookie %q", l.cfg.SignOutPath, l.cfg.CallbackPath, l.jar.name)
	}

	t.Setenv("OTHER_SESSION_SECRET", strings.Repeat("z", 32))
	if o, _ := ConfigFromEnv("OTHER"); o.CookieName != "" {
		t.Errorf("another prefix gets cookie %q; want the package default", o.CookieName)
	}
	t.Setenv("AGS_CLIENT_FEATURE_FLAG", "ags_client")
	t.Setenv("AGS_CLIENT_FEATURE_FLAG_DEFAULT", "off")
	if c, _ := ConfigFromEnv("AGS_CLIENT"); !c.Disabled {
		t.Error("the feature flag off does not disable")
	}
	t.Setenv("AGS_CLIENT_VERIFY_SSL", "false")
	var ic *authorizer.InvalidConfigError
	if _, err := ConfigFromEnv("AGS_CLIENT"); !errors.As(err, &ic) {
		t.Errorf("VERIFY_SSL=false: %v; want InvalidConfigError", err)
	}
}

func TestPrintingShowsNoSecret(t *testing.T) {
	c := Config{Issuer: "https://id.example", SessionSecret: "session-secret-value-that-is-long", OlderSessionSecrets: []string{"older-secret-value-long-enough-yes"}}
	c.Client.ClientID, c.Client.ClientSecret = "app", "client-secret-value"
	var logged logBuffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), logged.String()} {
		for _, secret := range []string{c.SessionSecret, c.OlderSessionSecrets[0], c.Client.ClientSecret} {
			if strings.Contains(out, secret) {
				t.Errorf("printed a secret: %s", out)
			}
		}
	}
}
