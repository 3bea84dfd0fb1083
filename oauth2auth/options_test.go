package oauth2auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"go/ast"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
)

var (
	optEnv = Environment{Issuer: "https://idp.example", TokenURL: "https://idp.example/token",
		AuthURL: "https://idp.example/auth", DeviceAuthURL: "https://idp.example/device"}
	optSecret = data.ClientInfo{ClientID: "id", ClientSecret: "secret"}
)

// construct builds the authorizer of flow f with opts.
func construct(f flow, opts ...Option) error {
	var err error
	switch f {
	case flowServiceAccount:
		_, err = NewServiceAccountAuthorizer(optSecret, optEnv, opts...)
	case flowDevice:
		_, err = NewDeviceAuthorizer(optSecret, optEnv, opts...)
	case flowBrowser:
		_, err = NewBrowserAuthorizer(optSecret, optEnv, opts...)
	}
	return err
}

// Issue 18 item 14: an option of another flow is an InvalidConfigError
// naming it, not silently ignored.
func TestOptionOfAnotherFlowIsRefused(t *testing.T) {
	prompt := func(context.Context, DevicePrompt) error { return nil }
	open := func(context.Context, string) error { return nil }
	tests := []struct {
		name   string
		flow   flow
		opt    Option
		option string
	}{
		{"token cache to service account", flowServiceAccount, WithTokenCache(base.NewMemoryCache()), "WithTokenCache"},
		{"device prompt to service account", flowServiceAccount, WithDevicePrompt(prompt), "WithDevicePrompt"},
		{"cache key to service account", flowServiceAccount, WithCacheKey("k"), "WithCacheKey"},
		{"reauth to service account", flowServiceAccount, WithInteractiveReauth(true), "WithInteractiveReauth"},
		{"extra scopes to service account", flowServiceAccount, WithExtraScopes("x"), "WithExtraScopes"},
		{"sign-in timeout to service account", flowServiceAccount, WithSignInTimeout(1), "WithSignInTimeout"},
		{"browser opener to device", flowDevice, WithBrowserOpener(open), "WithBrowserOpener"},
		{"landing page to device", flowDevice, WithLandingPage(defaultLanding), "WithLandingPage"},
		{"device prompt to browser", flowBrowser, WithDevicePrompt(prompt), "WithDevicePrompt"},
		{"poll interval to browser", flowBrowser, withPollInterval(1), "withPollInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertOptionError(t, construct(tt.flow, tt.opt), tt.option, "does not apply to "+constructors[tt.flow])
		})
	}
}

// Issue 18 item 14: an invalid option value is an InvalidConfigError naming
// the option, never dropped or replaced by the default.
func TestInvalidOptionValueIsRefused(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name   string
		flow   flow
		opt    Option
		option string
	}{
		{"zero default lifetime", flowServiceAccount, WithDefaultLifetime(0), "WithDefaultLifetime"},
		{"negative default lifetime", flowDevice, WithDefaultLifetime(-1), "WithDefaultLifetime"},
		{"private_key_jwt without a key", flowServiceAccount, WithClientAuth(PrivateKeyJWT), "WithClientAuth"},
		{"unknown client auth", flowServiceAccount, WithClientAuth(ClientAuth(42)), "WithClientAuth"},
		{"nil key", flowServiceAccount, WithPrivateKeyJWT(nil, ""), "WithPrivateKeyJWT"},
		{"P-384 key", flowDevice, WithPrivateKeyJWT(p384, ""), "WithPrivateKeyJWT"},
		{"empty cache key", flowDevice, WithCacheKey(""), "WithCacheKey"},
		{"zero sign-in timeout", flowBrowser, WithSignInTimeout(0), "WithSignInTimeout"},
		{"empty extra scope", flowDevice, WithExtraScopes("ok", ""), "WithExtraScopes"},
		{"extra scope with space", flowDevice, WithExtraScopes("a b"), "WithExtraScopes"},
		{"empty extra resource", flowBrowser, WithExtraResources(""), "WithExtraResources"},
		{"zero poll interval", flowDevice, withPollInterval(0), "withPollInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertOptionError(t, construct(tt.flow, tt.opt), tt.option, "")
		})
	}
}

// nil for an optional dependency means its documented default.
func TestNilDependencyMeansDefault(t *testing.T) {
	for _, f := range []flow{flowServiceAccount, flowDevice, flowBrowser} {
		opts := []Option{WithHTTPClient(nil), WithLogger(nil), WithClock(nil), nil}
		if f != flowServiceAccount {
			opts = append(opts, WithTokenCache(nil))
		}
		if err := construct(f, opts...); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	a, err := NewBrowserAuthorizer(optSecret, optEnv, WithBrowserOpener(nil), WithLandingPage(nil))
	if err != nil || a.o.user.openBrowser == nil || a.o.user.landing == nil {
		t.Errorf("nil opener and landing page must give the defaults: %v", err)
	}
	d, err := NewDeviceAuthorizer(optSecret, optEnv, WithDevicePrompt(nil))
	if err != nil || d.o.user.devicePrompt == nil || d.o.httpClient == nil || d.o.httpClient == http.DefaultClient {
		t.Errorf("nil prompt and client must give the defaults: %v", err)
	}
}

func assertOptionError(t *testing.T, err error, option, problem string) {
	t.Helper()
	var ce *authorizer.InvalidConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v; want *authorizer.InvalidConfigError", err)
	}
	if ce.Setting != "oauth2auth: "+option {
		t.Errorf("Setting = %q; want %q", ce.Setting, "oauth2auth: "+option)
	}
	if !strings.Contains(ce.Problem, problem) {
		t.Errorf("Problem = %q; want it to contain %q", ce.Problem, problem)
	}
}

// Issue 18 item 13: no method is named init (it reads like the package
// initialiser), and the user session is not spread over many files.
func TestNoMethodNamedInit(t *testing.T) {
	fset, files := packageSources(t)
	sessionFiles := map[string]bool{}
	for name, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil {
				continue
			}
			if fn.Name.Name == "init" {
				t.Errorf("%s: method named init", fset.Position(fn.Pos()))
			}
			if recvName(fn) == "userSession" {
				sessionFiles[name] = true
			}
		}
	}
	if len(sessionFiles) > 5 { // usersession, sessioncache, revoke, idtoken, redact
		t.Errorf("userSession's methods are spread over %d files: %v", len(sessionFiles), sessionFiles)
	}
}

func recvName(fn *ast.FuncDecl) string {
	e := fn.Recv.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
