package oauth2auth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

const leak = "S3CRET"

// Issue 16 item 2: every exported type of the package that holds a secret,
// directly or not, redacts it under fmt's verbs, slog's text and JSON
// handlers and encoding/json; the walk covers every exported type, so a
// new one has to be added here.
func TestNoExportedTypePrintsASecret(t *testing.T) {
	samples := exportedSamples(t)
	for _, name := range exportedTypes(t) {
		vals, ok := samples[name]
		if !ok {
			t.Errorf("exported type %s has no sample in this test: add one", name)
			continue
		}
		for _, v := range vals {
			for _, out := range renderings(t, v) {
				if strings.Contains(out, leak) {
					t.Errorf("%s (%T) prints a secret: %s", name, v, out)
				}
			}
		}
	}
}

func exportedSamples(t *testing.T) map[string][]any {
	info := data.ClientInfo{ClientID: "id", ClientSecret: leak + "-client-secret", APIKey: leak + "-api-key"}
	env := Environment{Name: "dev", Issuer: "https://idp.example", TokenURL: "https://idp.example/token",
		AuthURL: "https://idp.example/auth", DeviceAuthURL: "https://idp.example/device"}
	_, key, _ := ed25519.GenerateKey(nil)
	sa, err := NewServiceAccountAuthorizer(info, env, WithPrivateKeyJWT(key, "kid"))
	if err != nil {
		t.Fatal(err)
	}
	cache := base.NewMemoryCache()
	tok := &oauth2.Token{AccessToken: leak + "-access", RefreshToken: leak + "-refresh", Expiry: time.Now().Add(time.Hour)}
	dev, err := NewDeviceAuthorizer(info, env, WithTokenCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	dev.last.Store(tok)
	br, err := NewBrowserAuthorizer(info, env, WithTokenCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	br.last.Store(tok)
	var ua UserAuthorizer = dev
	tf, err := NewTokenFile(t.TempDir() + "/token")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := NewTokenExchangeAuthorizer(sa, env, WithActorToken(dev, ""))
	if err != nil {
		t.Fatal(err)
	}
	tx.subject.tok, tx.actor.tok = tok, tok
	return map[string][]any{
		"ServiceAccountAuthorizer":  {sa, *sa},
		"DeviceAuthorizer":          {dev, *dev},
		"BrowserAuthorizer":         {br, *br},
		"UserAuthorizer":            {ua},
		"Environment":               {env, &env},
		"Option":                    {WithPrivateKeyJWT(key, "")},
		"DevicePrompt":              {DevicePrompt{UserCode: "ABCD", VerificationURI: "https://idp.example/d"}},
		"DevicePrompter":            {DevicePromptWriter(&bytes.Buffer{})},
		"BrowserOpener":             {BrowserOpener(OpenSystemBrowser)},
		"Landing":                   {Landing{OK: true}},
		"ClientAuth":                {PrivateKeyJWT},
		"UnsupportedTokenTypeError": {&UnsupportedTokenTypeError{TokenType: "DPoP"}},
		"DowngradeError":            {&DowngradeError{TokenType: "Bearer"}},
		"TokenFile":                 {tf, *tf},
		"TokenExchangeAuthorizer":   {tx, *tx},
		"SubjectTokenError":         {&SubjectTokenError{Role: "subject", Err: errors.New("refused")}},
		"IssuedTokenTypeError":      {&IssuedTokenTypeError{Issued: TokenTypeIDToken}},
	}
}

// renderings prints v every way a caller might.
func renderings(t *testing.T, v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("authorizer", "value", v)
		out = append(out, b.String())
	}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b))
	}
	return out
}

// exportedTypes lists the package's exported type names from its sources.
func exportedTypes(t *testing.T) []string {
	_, files := packageSources(t)
	var names []string
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d exported types: %v", len(names), names)
	}
	return names
}

// packageSources parses the package's non-test Go files.
func packageSources(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = f
	}
	return fset, files
}
