package base

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
)

// policy decides whether req may carry credentials. It returns false for a
// redirect that leaves the original request's origin (another host or
// port, or https to http) unless the target is in WithAllowedHosts, and an
// error wrapping authorizer.ErrInsecureTransport for plain http to a host
// that is not loopback, unless InsecureAllowHTTP was given.
func (t *Transport) policy(req *http.Request) (bool, error) {
	if req.URL == nil {
		return false, &authorizer.AuthorizationError{Message: "base: request has no URL"}
	}
	if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
		// net/http lower-cases the scheme it parses; anything else was
		// built by hand and is no URL credentials are meant for
		return false, &authorizer.AuthorizationError{
			Message: "base: not sending credentials to a URL whose scheme is not http or https",
			Err:     authorizer.ErrInsecureTransport,
		}
	}
	if req.Response != nil && !t.followsOrigin(req) {
		return false, nil
	}
	if req.URL.Scheme == "https" || t.cfg.insecureHTTP || isLoopback(req.URL.Hostname()) {
		return true, nil
	}
	return false, &authorizer.AuthorizationError{
		Message: fmt.Sprintf("base: not sending credentials to %s://%s", req.URL.Scheme, req.URL.Host),
		Err:     authorizer.ErrInsecureTransport,
	}
}

// followsOrigin reports whether a redirected request may keep credentials:
// it stays on the first request's origin, or goes to an allowed host.
func (t *Transport) followsOrigin(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	from, to := first.URL, req.URL
	if from.Scheme == "https" && to.Scheme != "https" {
		return false // never from https to http, even to an allowed host
	}
	allowed := t.cfg.allowedHosts
	if allowed[strings.ToLower(to.Hostname())] || allowed[strings.ToLower(to.Host)] || allowed[strings.ToLower(hostPort(to))] {
		return true // hostPort: "host:443" allows https://host/ too
	}
	return strings.EqualFold(hostPort(from), hostPort(to))
}

// hostPort returns u's host with its port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// isLoopback reports whether host names this machine; the SDK's one rule
// is [endpoint.IsLoopback].
func isLoopback(host string) bool { return endpoint.IsLoopback(host) }
