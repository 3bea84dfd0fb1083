package oauth2auth

import (
	"regexp"
	"strings"

	"github.com/seed-d44eba79/authorizer"
)

// cognitoRegion is an AWS region name, e.g. "eu-west-1", "us-gov-west-1".
var cognitoRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// cognitoPrefix is a Cognito domain prefix: lower-case letters, digits and
// hyphens, not starting or ending with a hyphen, at most 63 characters.
var cognitoPrefix = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// hostLabel is one label of a DNS host name.
var hostLabel = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// CognitoEnvironment returns the Environment of an Amazon Cognito user pool
// domain: token endpoint https://<domain>.auth.<region>.amazoncognito.com/oauth2/token,
// with the matching authorize and revoke endpoints. domain is the pool's
// domain prefix; a value containing a dot is taken as a custom domain host
// (e.g. "auth.example.com"), and then region is not used. Cognito's
// client-credentials grant takes the scopes of its resource servers, e.g.
// "https://api.example.com/read".
//
// domain and region are checked against their syntax (a prefix of
// lower-case letters, digits and hyphens, or a DNS host name; a region such
// as "eu-west-1"): a malformed one, which could move the endpoints to
// another host, makes [Environment.Validate], and so every constructor,
// return an *[authorizer.InvalidConfigError].
//
// Cognito publishes OpenID discovery under its issuer,
// https://cognito-idp.<region>.amazonaws.com/<pool id>, not under the
// domain; set Issuer to that when ID tokens are to be verified.
func CognitoEnvironment(name, domain, region string, scopes ...string) Environment {
	host := domain + ".auth." + region + ".amazoncognito.com"
	custom := strings.Contains(domain, ".")
	if custom {
		host = domain
	}
	base := "https://" + host + "/oauth2/"
	e := Environment{
		Name:          name,
		TokenURL:      base + "token",
		AuthURL:       base + "authorize",
		RevocationURL: base + "revoke",
		Scopes:        append([]string(nil), scopes...),
	}
	switch {
	case custom && !validHost(domain):
		e.invalid = cognitoError(e, "domain", "is not a host name")
	case !custom && !cognitoPrefix.MatchString(domain):
		e.invalid = cognitoError(e, "domain", "is not a Cognito domain prefix (lower-case letters, digits and hyphens)")
	case !custom && !cognitoRegion.MatchString(region):
		e.invalid = cognitoError(e, "region", `is not an AWS region such as "eu-west-1"`)
	}
	return e
}

func cognitoError(e Environment, what, problem string) error {
	return &authorizer.InvalidConfigError{Setting: e.label() + ": CognitoEnvironment " + what, Problem: problem}
}

// validHost reports whether h is a DNS host name of at least two labels.
func validHost(h string) bool {
	labels := strings.Split(h, ".")
	if len(h) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// CognitoIssuer returns the issuer URL of a Cognito user pool,
// https://cognito-idp.<region>.amazonaws.com/<pool id>; OpenID discovery
// works from it.
func CognitoIssuer(region, poolID string) string {
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}
