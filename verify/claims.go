package verify

import (
	"errors"
	"strings"
	"time"
)

// Claims are the claims of a verified token. The registered claims (RFC
// 7519 §4.1) are read into fields; [Claims.Decode] reads any others.
//
// A Verifier may return the same *Claims for repeated verifications of the
// same token (see [WithCacheSize]), to many goroutines at once: treat it as
// read-only. Do not modify it or the slices it holds.
type Claims struct {
	// Issuer is iss.
	Issuer string
	// Subject is sub.
	Subject string
	// Audience is aud; a single string is a slice of one.
	Audience []string
	// Expiry, NotBefore and IssuedAt are exp, nbf and iat; the zero time
	// when absent.
	Expiry, NotBefore, IssuedAt time.Time
	// ID is jti.
	ID string
	// Scopes are the space-separated scope claim (RFC 8693 §4.2), or the
	// scp claim (an array of strings, or a space-separated string as Entra
	// ID sends) when there is no scope.
	Scopes []string
	// ClientID is client_id (RFC 9068, Cognito access tokens), or azp when
	// there is no client_id.
	ClientID string
	// TokenUse is Cognito's token_use ("access" or "id"), when present.
	TokenUse string
	// KeyThumbprint is the jkt member of the cnf claim (RFC 9449 §6.1):
	// the RFC 7638 thumbprint of the key the token is bound to, or "" for a
	// token bound to no key. A token that has one is accepted only with a
	// DPoP proof signed by that key ([Verifier.VerifyDPoP], [Middleware]).
	KeyThumbprint string
	// CertificateThumbprint is the x5t#S256 member of the cnf claim
	// (RFC 8705 §3.1): the base64url SHA-256 of the DER client certificate
	// the token is bound to, or "". [Middleware] accepts such a token only
	// over TLS with that client certificate; [Verifier.Verify], which sees
	// no connection, refuses it.
	CertificateThumbprint string

	raw          string // the claims JSON
	otherBinding bool   // cnf holds a confirmation method this package does not check
	clientID     string // the client_id claim alone (Cognito checks it, never azp)

	// Backing arrays for a single aud and a few scopes, sparing two
	// allocations per token.
	audBuf   [1]string
	scopeBuf [4]string
	// others holds the members that are not registered claims, for a
	// Decode that needs only those; nOthers is -1 when there were more
	// than fit.
	others  [maxOthers]string
	nOthers int
}

// maxOthers bounds the members kept for a reduced Decode.
const maxOthers = 12

// HasScope reports whether the token grants every one of scopes.
func (c *Claims) HasScope(scopes ...string) bool {
	for _, want := range scopes {
		found := false
		for _, s := range c.Scopes {
			if s == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var errClaimType = errors.New("claim has the wrong type")

// parseClaims reads the claims JSON. A registered claim of the wrong type
// is an error, as is a duplicate member or invalid JSON.
func parseClaims(payload string) (*Claims, error) {
	c := &Claims{raw: payload}
	var scp, azp string
	var scpList []string
	err := walkObject(payload, func(name, value, member string) error {
		var ok bool
		switch name {
		case "iss":
			c.Issuer, ok = jsonString(value)
		case "sub":
			c.Subject, ok = jsonString(value)
		case "jti":
			c.ID, ok = jsonString(value)
		case "client_id":
			c.ClientID, ok = jsonString(value)
		case "azp":
			azp, ok = jsonString(value)
		case "token_use":
			c.TokenUse, ok = jsonString(value)
		case "scope":
			scp, ok = jsonString(value)
		case "scp":
			if one, isString := jsonString(value); isString {
				scpList, ok = appendFields(nil, one), true // Entra ID: "a b"
			} else {
				scpList, ok = jsonStrings(value, false)
			}
		case "aud":
			if one, isString := jsonString(value); isString {
				c.audBuf[0] = one
				c.Audience, ok = c.audBuf[:1:1], true
			} else {
				c.Audience, ok = jsonStrings(value, true)
			}
		case "exp":
			c.Expiry, ok = jsonTime(value)
		case "nbf":
			c.NotBefore, ok = jsonTime(value)
		case "iat":
			c.IssuedAt, ok = jsonTime(value)
		case "cnf":
			ok = c.readConfirmation(value)
		default:
			c.keepOther(member)
			return nil
		}
		if !ok {
			return errClaimType
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.clientID = c.ClientID
	if c.ClientID == "" {
		c.ClientID = azp
	}
	if scp != "" {
		c.Scopes = appendFields(c.scopeBuf[:0:len(c.scopeBuf)], scp)
	} else {
		c.Scopes = scpList
	}
	return c, nil
}

// readConfirmation reads a cnf claim (RFC 7800): an object whose jkt
// (RFC 9449) and x5t#S256 (RFC 8705), when present, are non-empty strings.
// Any other member (jwk, jku, kid, ...) is a binding this package cannot
// check: it is recorded, and the token is then refused (bindingError).
func (c *Claims) readConfirmation(raw string) bool {
	err := walkObject(raw, func(name, value, _ string) error {
		var dst *string
		switch name {
		case "jkt":
			dst = &c.KeyThumbprint
		case "x5t#S256":
			dst = &c.CertificateThumbprint
		default:
			c.otherBinding = true
			return nil
		}
		var ok bool
		if *dst, ok = jsonString(value); !ok || *dst == "" {
			return errClaimType
		}
		return nil
	})
	return err == nil
}

func jsonTime(raw string) (time.Time, bool) {
	n, ok := jsonNumericDate(raw)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// appendFields appends the space-separated fields of s to dst.
func appendFields(dst []string, s string) []string {
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return dst
		}
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}
