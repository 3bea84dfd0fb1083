package oauth2auth

import (
	"strings"
)

// CognitoEnvironment returns the Environment of an Amazon Cognito user pool
// domain: token endpoint https://<domain>.auth.<region>.amazoncognito.com/oauth2/token,
// with the matching authorize and revoke endpoints. domain is the pool's
// domain prefix; a value containing a dot is taken as a custom domain host
// (e.g. "auth.example.com"), and then region is not used. Cognito's
// client-credentials grant takes the scopes of its resource servers, e.g.
// "https://api.example.com/read".
//
// Cognito publishes OpenID discovery under its issuer,
// https://cognito-idp.<region>.amazonaws.com/<pool id>, not under the
// domain; set Issuer to that when ID tokens are to be verified.
func CognitoEnvironment(name, domain, region string, scopes ...string) Environment {
	host := domain + ".auth." + region + ".amazoncognito.com"
	if strings.Contains(domain, ".") {
		host = domain
	}
	base := "https://" + host + "/oauth2/"
	return Environment{
		Name:          name,
		TokenURL:      base + "token",
		AuthURL:       base + "authorize",
		RevocationURL: base + "revoke",
		Scopes:        append([]string(nil), scopes...),
	}
}

// CognitoIssuer returns the issuer URL of a Cognito user pool,
// https://cognito-idp.<region>.amazonaws.com/<pool id>; OpenID discovery
// works from it.
func CognitoIssuer(region, poolID string) string {
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}
