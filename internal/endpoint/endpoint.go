// Package endpoint holds the SDK's one rule for where credentials may be
// sent: an endpoint is an absolute https URL, or plain http to this machine
// (a loopback host), unless the caller opted out with an Insecure… option.
// Packages base, oauth2auth and srp all use it, so the rule cannot drift.
package endpoint

import (
	"net/netip"
	"net/url"
	"strings"
)

// IsLoopback reports whether host names this machine: "localhost" (any
// case) or a loopback IP address (127.0.0.0/8, ::1, also IPv4-mapped and
// with a zone). Look-alikes such as "localhost.example" or "127.0.0.1.nip.io"
// are not loopback.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Problem is what is wrong with an endpoint URL; OK when nothing is.
type Problem int

// The problems Check reports.
const (
	// OK: the URL may be used.
	OK Problem = iota
	// NotAbsolute: the URL does not parse or has no scheme or host.
	NotAbsolute
	// UserInfo: the URL carries user info or a fragment.
	UserInfo
	// NotHTTP: the scheme is neither https nor http.
	NotHTTP
	// PlainHTTP: plain http to a host that is not loopback.
	PlainHTTP
	// Downgrade: plain http where https is required (Rule.HTTPSOnly).
	Downgrade
)

// Rule says what Check accepts beyond absolute https URLs.
type Rule struct {
	// AllowHTTP accepts plain http to any host (an Insecure… option).
	AllowHTTP bool
	// HTTPSOnly refuses plain http even to a loopback host, e.g. for the
	// endpoints an https issuer publishes. It wins over AllowHTTP.
	HTTPSOnly bool
}

// Check reports what, if anything, is wrong with raw under rule. It never
// looks at the network.
func Check(raw string, rule Rule) Problem {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || !u.IsAbs():
		return NotAbsolute
	case u.User != nil || u.Fragment != "":
		return UserInfo
	case u.Scheme == "https":
		return OK
	case u.Scheme != "http":
		return NotHTTP
	case rule.HTTPSOnly:
		return Downgrade
	case rule.AllowHTTP || IsLoopback(u.Hostname()):
		return OK
	}
	return PlainHTTP
}

// Explain says what p means, in words for an InvalidConfigError's Problem.
// insecureOption names the opt-out, with its package
// ("oauth2auth.InsecureAllowHTTP"); it is quoted for PlainHTTP only.
func (p Problem) Explain(insecureOption string) string {
	switch p {
	case OK:
		return "is valid"
	case NotAbsolute:
		return "is not an absolute URL"
	case UserInfo:
		return "must not carry user info or a fragment"
	case NotHTTP:
		return "must be an https URL"
	case Downgrade:
		return "uses plain http although the issuer uses https"
	}
	return "uses plain http to a non-loopback host (https is required; see " + insecureOption + ")"
}
