// Package e2e holds the SDK's end-to-end tests that need a real browser:
// the browser sign-in (authorization code + PKCE through a loopback
// redirect) completed in headless Chromium against the project's
// oidc-provider harness. It is a separate module so that the SDK itself
// does not depend on chromedp.
//
// Run with the provider started and Chromium's path given:
//
//	AUTHORIZER_OIDC_ISSUER=http://127.0.0.1:9010 AUTHORIZER_CHROMIUM=/usr/bin/chromium go test -race ./...
package e2e
