package oauth2auth

import (
	"errors"
	"time"
)

// WithClientAssertionFile makes the client authenticate at every endpoint
// with the RFC 7523 client assertion (client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer) held in the file
// at path: a JWT that the platform issues and rewrites (a Kubernetes
// projected service-account token, a CI job's OIDC token, a SPIFFE
// JWT-SVID), in place of a client secret or key. All flows.
//
// The file is read again for every request: nothing is cached, and nothing
// is keyed on its modification time, so a rotated assertion is used by the
// next request. When the server answers invalid_client, the file is read
// once more and the request sent once more (the assertion read may have
// expired just before the platform rewrote it); a second refusal is the
// *[authorizer.InvalidClientError]. The file must hold one JWT (surrounding
// white space is removed), at most 64 KiB, in a regular file (or a symlink
// to one; a FIFO or a device is refused at once); a file that cannot be read or
// holds something else fails that request with an
// *[authorizer.AuthorizationError] naming the path, never quoting the
// content. The file need not exist when the authorizer is made.
//
// An empty path is an error, and so is combining it with [WithClientAuth],
// [WithPrivateKeyJWT] or Environment.ClientAuth.
func WithClientAssertionFile(path string) Option {
	return func(o *options) {
		switch {
		case path == "":
			o.fail("WithClientAssertionFile", "is empty")
		case o.authSet:
			o.fail("WithClientAssertionFile", "is given with WithClientAuth or WithPrivateKeyJWT: choose one")
		default:
			o.auth, o.authSet, o.assertionFile = PrivateKeyJWT, true, path
			o.assertion = assertionFromFile(path)
		}
	}
}

// assertionFromFile returns a client-assertion source reading path on every
// call; the client id, audience and time are the platform's business.
func assertionFromFile(path string) func(clientID, aud string, now time.Time) (string, error) {
	return func(string, string, time.Time) (string, error) {
		s, err := readTokenFile(path)
		if err != nil {
			return "", errors.New("oauth2auth: client assertion file " + path + " " + err.Error())
		}
		return s, nil
	}
}
