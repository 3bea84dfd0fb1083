package verify

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// cognitoRules are the checks of AWS's aws-jwt-verify for a user pool.
type cognitoRules struct {
	region, pool, tokenUse string
	clientIDs              []string
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	poolPattern   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$`)
)

// Cognito makes [New] check tokens of an Amazon Cognito user pool the way
// AWS's aws-jwt-verify does. For [New]. tokenUse is "access" or "id":
//   - access tokens carry no aud; their client_id must be one of clientIDs
//     and token_use must be "access";
//   - ID tokens must have one of clientIDs in aud and token_use "id".
//
// The issuer is https://cognito-idp.<region>.amazonaws.com/<userPoolID>;
// [Expect].Issuer may be empty (it is set) or that exact value, and
// [Expect].Audience must be empty. With nil keys, New fetches
// [CognitoJWKSURL] through [JWKS] with the remote-source options given to
// New (e.g. [WithHTTPClient]), and [Verifier.Close] closes it. An invalid
// region, pool id (it must start with the region and "_"), tokenUse, or
// no client id is an *[authorizer.InvalidConfigError].
func Cognito(region, userPoolID, tokenUse string, clientIDs ...string) Option {
	r := &cognitoRules{region: region, pool: userPoolID, tokenUse: tokenUse, clientIDs: slices.Clone(clientIDs)}
	return Option{"Cognito", forVerifier, func(c *config) error {
		switch {
		case !regionPattern.MatchString(region):
			return errors.New("has an invalid region")
		case !poolPattern.MatchString(userPoolID) || !strings.HasPrefix(userPoolID, region+"_"):
			return errors.New("has a user pool id that is not <region>_<id>")
		case tokenUse != "access" && tokenUse != "id":
			return errors.New(`needs tokenUse "access" or "id"`)
		case len(clientIDs) == 0 || slices.Contains(clientIDs, ""):
			return errors.New("needs at least one non-empty client id")
		}
		c.cognito = r
		return nil
	}}
}

// CognitoIssuer returns a user pool's issuer,
// https://cognito-idp.<region>.amazonaws.com/<userPoolID>.
func CognitoIssuer(region, userPoolID string) string {
	return "https://cognito-idp." + region + ".amazonaws.com/" + userPoolID
}

// CognitoJWKSURL returns a user pool's JWKS URL, the issuer followed by
// /.well-known/jwks.json.
func CognitoJWKSURL(region, userPoolID string) string {
	return CognitoIssuer(region, userPoolID) + "/.well-known/jwks.json"
}

// setUp fills in v's issuer and, for nil keys, its key source.
func (r *cognitoRules) setUp(v *Verifier, sourceOpts []Option) error {
	iss := CognitoIssuer(r.region, r.pool)
	switch {
	case v.want.Issuer != "" && v.want.Issuer != iss:
		return &authorizer.InvalidConfigError{Setting: "verify.Expect.Issuer", Problem: "is not the Cognito pool's issuer " + iss}
	case len(v.want.Audience) != 0:
		return &authorizer.InvalidConfigError{Setting: "verify.Expect.Audience", Problem: "must be empty with verify.Cognito (it checks the client ids)"}
	case v.cfg.skipIssuer || v.cfg.skipAudience:
		return &authorizer.InvalidConfigError{Setting: "verify.Cognito", Problem: "cannot be combined with InsecureSkip… options"}
	}
	v.want.Issuer = iss
	if v.keys == nil {
		v.keys = JWKS(CognitoJWKSURL(r.region, r.pool), sourceOpts...)
		v.owned = true
	}
	return nil
}

// check applies the token_use and client rules.
func (r *cognitoRules) check(c *Claims) error {
	if c.TokenUse != r.tokenUse {
		return invalid(authorizer.TokenUse, "token_use is missing or not the expected one")
	}
	if r.tokenUse == "access" {
		if !slices.Contains(r.clientIDs, c.clientID) {
			return invalid(authorizer.TokenAudience, "client_id is missing or not an expected client")
		}
		return nil
	}
	if !anyIn(c.Audience, r.clientIDs) {
		return invalid(authorizer.TokenAudience, "aud is missing or holds no expected client")
	}
	return nil
}
