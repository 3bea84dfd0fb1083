package oauth2auth

import "html/template"

// Landing is what a landing page template ([WithLandingPage]) is executed
// with, once the browser brings the authorization response back.
type Landing struct {
	// OK is true when the response carried a code. The code is still to be
	// exchanged, so the tool may yet fail; the page should say "you can
	// close this window", not more.
	OK bool
	// Error says what went wrong when OK is false, in words; it holds no
	// secret.
	Error string
}

// defaultLanding is the page shown when [WithLandingPage] is not given. It
// loads nothing from the network.
var defaultLanding = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{if .OK}}Signed in{{else}}Sign-in failed{{end}}</title>
<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;color:#222}</style></head>
<body>{{if .OK}}<h1>Signed in</h1><p>You are signed in. You can close this window and return to the application.</p>
{{else}}<h1>Sign-in failed</h1><p>{{.Error}}</p><p>Return to the application and try again.</p>{{end}}
</body></html>
`))
