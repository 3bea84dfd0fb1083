package tokenwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/servertext"
	"golang.org/x/oauth2"
)

// maxLifetime caps expires_in so that Expiry cannot overflow (about 68
// years, as golang.org/x/oauth2 does).
const maxLifetime = math.MaxInt32 * time.Second

// maxRetryAfter caps a server's Retry-After.
const maxRetryAfter = 24 * time.Hour

// maxFieldLen caps error, error_description and error_uri as quoted in
// errors.
const maxFieldLen = 256

// ParseResponse turns a token endpoint's answer into a token or a typed
// error (see the package documentation). now is when the request was sent;
// defaultLifetime is the lifetime of a token without expires_in (zero means
// data.DefaultTokenLifetime). It is pure and never panics.
func ParseResponse(status int, header http.Header, body []byte, now time.Time, defaultLifetime time.Duration) (*oauth2.Token, error) {
	return parse(status, header, body, now, defaultLifetime, nil, nil)
}

// parse is ParseResponse with the secrets the request sent, which quoted
// server text must not repeat, and the DPoP key the request's proof was
// signed with (nil for none): the token must then be bound to it.
func parse(status int, header http.Header, body []byte, now time.Time, defaultLifetime time.Duration, secrets []string, key *dpop.Key) (*oauth2.Token, error) {
	if status >= 300 && status < 400 {
		return nil, &authorizer.AuthorizationError{StatusCode: status,
			Message: prefix + "token endpoint answered with a redirect, which is not followed (credentials must not move to another URL)"}
	}
	fields, kind := decode(header, body)
	ok := status >= 200 && status < 300
	if kind != "" {
		return nil, unreadable(status, header, kind, now)
	}
	if code := stringField(fields, "error"); code != "" || !ok {
		return nil, classify(status, header, fields, now, secrets)
	}
	return newToken(status, fields, now, defaultLifetime, secrets, key)
}

// decode parses a JSON body (or a form-encoded one, which some providers
// send when the content type says so). kind says why it could not: "" when
// it could.
func decode(header http.Header, body []byte) (map[string]any, string) {
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" && !looksJSON(body) {
		return decodeForm(body)
	}
	if mt == "text/html" || looksHTML(body) {
		return nil, "an HTML page"
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "an empty body"
	}
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil || dec.More() {
		return nil, "a body that is not a JSON object"
	}
	return fields, ""
}

func decodeForm(body []byte) (map[string]any, string) {
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(vals) == 0 {
		return nil, "a body that is neither JSON nor a form"
	}
	fields := make(map[string]any, len(vals))
	for k := range vals {
		fields[k] = vals.Get(k)
	}
	return fields, ""
}

func looksJSON(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '{'
}

func looksHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

// unreadable is the error for an answer that could not be decoded.
func unreadable(status int, header http.Header, kind string, now time.Time) error {
	e := &authorizer.AuthorizationError{StatusCode: status,
		Message: fmt.Sprintf("%stoken endpoint answered with %s instead of a JSON token response", prefix, kind)}
	if status == http.StatusTooManyRequests || status >= 500 {
		e.RetryAfter = retryAfter(header, now)
	}
	return e
}

// classify turns an error answer (RFC 6749 §5.2) into a typed error. A
// success status carrying an error is an *authorizer.AuthorizationError
// saying so, wrapping what its code means (e.g. *InvalidClientError), so
// errors.As finds either.
func classify(status int, header http.Header, fields map[string]any, now time.Time, secrets []string) error {
	return classifyAt("token endpoint", status, header, fields, now, secrets)
}

// classifyAt is classify for the endpoint named where.
func classifyAt(where string, status int, header http.Header, fields map[string]any, now time.Time, secrets []string) error {
	t := text{secrets: secrets, where: where}
	err := refusal(status, header, fields, now, t)
	var ae *authorizer.AuthorizationError
	if status < 200 || status >= 300 || errors.As(err, &ae) {
		return err
	}
	return &authorizer.AuthorizationError{StatusCode: status, Code: t.field(fields, "error"),
		Message: prefix + t.where + " answered success with an error", Err: err}
}

// refusal maps an error answer to its typed error by status and code.
func refusal(status int, header http.Header, fields map[string]any, now time.Time, t text) error {
	code := t.field(fields, "error")
	desc := t.field(fields, "error_description")
	uri := t.field(fields, "error_uri")
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return &authorizer.AuthorizationError{StatusCode: status, Code: code, Description: desc, URI: uri,
			RetryAfter: retryAfter(header, now), Message: prefix + t.where + " is unavailable"}
	case code == "invalid_client" || code == "unauthorized_client" || code == "" && status == http.StatusUnauthorized:
		return &authorizer.InvalidClientError{StatusCode: status, Code: code, Description: desc}
	case code == "invalid_grant":
		return &authorizer.InvalidCredentialsError{StatusCode: status, Code: code, Description: desc}
	case code == "":
		return &authorizer.AuthorizationError{StatusCode: status,
			Message: prefix + t.where + " refused the request without an error code"}
	}
	msg := prefix + t.where + " refused the request"
	if status >= 200 && status < 300 {
		msg = prefix + t.where + " answered success with an error"
	}
	return &authorizer.AuthorizationError{StatusCode: status, Code: code, Description: desc, URI: uri, Message: msg}
}

// newToken builds the token from a success answer; with key, a DPoP token
// that carries key (dpop.KeyOf).
func newToken(status int, fields map[string]any, now time.Time, defaultLifetime time.Duration, secrets []string, key *dpop.Key) (*oauth2.Token, error) {
	access := stringField(fields, "access_token")
	if access == "" {
		return nil, &authorizer.AuthorizationError{StatusCode: status,
			Message: prefix + "token endpoint answered without an access_token"}
	}
	if !validToken(access) {
		return nil, &authorizer.AuthorizationError{StatusCode: status,
			Message: prefix + "token endpoint answered with an access_token that cannot be sent in a header (RFC 6750 §2.1)"}
	}
	typ, err := tokenType(stringField(fields, "token_type"), key, append(secrets, access))
	if err != nil {
		return nil, err
	}
	lifetime, ok := expiresIn(fields["expires_in"])
	if !ok {
		lifetime = defaultLifetime
		if lifetime <= 0 {
			lifetime = data.DefaultTokenLifetime
		}
		lifetime = min(lifetime, maxLifetime)
	}
	tok := &oauth2.Token{
		AccessToken:  access,
		TokenType:    typ,
		RefreshToken: stringField(fields, "refresh_token"),
		Expiry:       now.Add(lifetime),
		ExpiresIn:    int64(lifetime / time.Second),
	}
	if key != nil {
		dpop.SetKey(fields, key)
	}
	return tok.WithExtra(fields), nil
}

// expiresIn reads expires_in, a number of seconds, also accepted as a
// string. ok is false when it is absent, unreadable, or not positive.
func expiresIn(v any) (time.Duration, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, false
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs < 1 || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return 0, false
	}
	if secs >= float64(math.MaxInt32) {
		return maxLifetime, true
	}
	return time.Duration(secs) * time.Second, true
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). It returns 0 when absent or in the past.
func retryAfter(header http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = maxRetryAfter
		if secs < int64(maxRetryAfter/time.Second) {
			d = time.Duration(secs) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// stringField returns fields[key] when it is a string.
func stringField(fields map[string]any, key string) string {
	s, _ := fields[key].(string)
	return s
}

// text cleans server-supplied strings before they are quoted in an error:
// the secrets the request sent are cut out first, then the string is
// shortened and its control characters replaced.
type text struct {
	secrets []string
	where   string // "token endpoint", "revocation endpoint", …
}

func (t text) field(fields map[string]any, key string) string {
	return Clean(Scrub(stringField(fields, key), t.secrets...))
}

// Redacted replaces a secret that a server quoted back.
const Redacted = servertext.Redacted

// Scrub returns s with every non-empty secret (as sent, and form-, path- or
// JSON-encoded) replaced by [Redacted]; see [servertext.Scrub], the SDK's
// one implementation.
func Scrub(s string, secrets ...string) string { return servertext.Scrub(s, secrets...) }

// Clean shortens a server-supplied string to maxFieldLen bytes (never
// cutting a character in half) and replaces control characters and invalid
// UTF-8; see [servertext.Clean], the SDK's one implementation.
func Clean(s string) string { return servertext.Clean(s, maxFieldLen) }

// validToken reports whether an access token can be sent as a header value:
// visible ASCII only (RFC 6750 §2.1's b64token is a subset). A token with
// CR, LF, spaces or other bytes would fail every request locally and never
// be retired.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// bearer checks token_type (RFC 6749 §7.1: a client must not use a token
// type it does not understand). Bearer in any case, or none, gives
// "Bearer"; anything else is an *UnsupportedTokenTypeError, quoting it
// without the secrets the request sent (a hostile endpoint may echo one).
func bearer(tokenType string, secrets []string) (string, error) {
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		return "Bearer", nil
	}
	return "", &UnsupportedTokenTypeError{TokenType: servertext.Clean(tokenType, maxFieldLen, secrets...)}
}

// UnsupportedTokenTypeError is returned when the token endpoint issues a
// token whose token_type is neither Bearer nor, for a request with a DPoP
// proof, DPoP (a DPoP token for a request without a proof cannot be sent:
// there is no key to prove): such a token is not used.
type UnsupportedTokenTypeError struct {
	// TokenType is the token_type the endpoint sent, cleaned.
	TokenType string
}

func (e *UnsupportedTokenTypeError) Error() string {
	return fmt.Sprintf("%stoken endpoint issued a token of type %q; only Bearer tokens, and DPoP tokens when asked for with a DPoP key, are supported (RFC 6749 §7.1)", prefix, e.TokenType)
}

// Temporary reports false: asking again gives the same kind of token.
func (e *UnsupportedTokenTypeError) Temporary() bool { return false }
