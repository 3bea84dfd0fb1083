// Command web is a small web app whose pages under /private/ need a
// signed-in user, protected by package web and configured from the
// environment (web.ConfigFromEnv). It shows who is signed in, their
// claims and a fingerprint of their access token, and has a sign-out
// button (RP-initiated logout).
//
// Against the project's oidc-provider peer (scripts/peers/oidc-provider,
// which registers the client sdk-web for the app at its port + 1000):
//
//	scripts/peers/oidc-provider/start.sh
//	WEB_ISSUER=http://127.0.0.1:9010 WEB_ID=sdk-web WEB_SECRET=sdk-web-secret \
//	WEB_EXTERNAL_URL=http://127.0.0.1:10010 WEB_AUTHENTICATED_PATHS=/private/ \
//	WEB_SESSION_SECRET="$(head -c 32 /dev/urandom | base64)" go run ./examples/web
//
// then open http://127.0.0.1:10010/private/ and sign in with any name.
//
// With no account anywhere, -demo runs an in-process demo provider and the
// app on -addr (default 127.0.0.1:8080), with a random session secret:
//
//	go run ./examples/web -demo
//
// An ags_client deployment runs it unchanged with -prefix=AGS_CLIENT (plus
// AGS_CLIENT_EXTERNAL_URL). Tokens are never printed, only fingerprints.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/web"
)

var page = template.Must(template.New("page").Parse(`<!doctype html><meta charset="utf-8"><title>web example</title>
{{if .Signed}}<h1>Hello {{.Subject}}</h1>
<p>Access token {{.Token}}</p><pre>{{.Claims}}</pre>
<form method="post" action="{{.SignOut}}"><input type="hidden" name="rd" value="/"><button>Sign out</button></form>
{{else}}<h1>Welcome</h1><p><a href="/private/">Sign in</a></p>{{end}}`))

func main() {
	prefix := flag.String("prefix", "WEB", "prefix of the environment variables (AGS_CLIENT for an ags_client deployment)")
	demo := flag.Bool("demo", false, "run an in-process demo provider instead of reading the environment")
	demoAddr := flag.String("addr", "127.0.0.1:8080", "with -demo: the app's address")
	flag.Parse()
	if *demo {
		if err := setDemoEnv(*prefix, *demoAddr); err != nil {
			fmt.Fprintln(os.Stderr, "web:", err)
			os.Exit(1)
		}
		log.Printf("demo: open http://%s/private/ and sign in with any name", *demoAddr)
	}
	handler, addr, err := newApp(*prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(2)
	}
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, handler))
}

// setDemoEnv starts the demo provider and sets the environment for it.
func setDemoEnv(prefix, addr string) error {
	p, err := startDemoProvider("demo-app", randomToken())
	if err != nil {
		return err
	}
	for k, v := range map[string]string{"ISSUER": p.url, "ID": p.client, "SECRET": p.secret, "EXTERNAL_URL": "http://" + addr,
		"AUTHENTICATED_PATHS": "/private/", "SESSION_SECRET": randomToken()} {
		os.Setenv(prefix+"_"+k, v)
	}
	return nil
}

// newApp builds the protected app from the environment and returns the
// address to listen on (the external URL's host).
func newApp(prefix string) (http.Handler, string, error) {
	cfg, err := web.ConfigFromEnv(prefix)
	if err != nil {
		return nil, "", err
	}
	login, err := web.New(cfg)
	if err != nil {
		return nil, "", err
	}
	u, _ := url.Parse(cfg.ExternalURL)
	signOut := cfg.SignOutPath
	if signOut[0] != '/' {
		signOut = "/" + signOut
	}
	return login.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { show(w, r, signOut) })), u.Host, nil
}

func show(w http.ResponseWriter, r *http.Request, signOut string) {
	v := struct {
		Signed                          bool
		Subject, Token, Claims, SignOut string
	}{SignOut: signOut}
	if id, ok := web.IdentityFrom(r.Context()); ok {
		tok, err := id.Authorize(r.Context())
		if err != nil {
			http.Error(w, "your session needs a new sign-in", http.StatusUnauthorized)
			return
		}
		var claims map[string]any
		id.Decode(&claims)
		pretty, _ := json.MarshalIndent(claims, "", "  ")
		v.Signed, v.Subject, v.Token, v.Claims = true, id.Subject, data.Fingerprint(tok.AccessToken), string(pretty)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.Execute(w, v)
}
