package data

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
)

// ClientInfo identifies an application (an OAuth 2.0 client, a Cognito app
// client) to an identity provider, and optionally to an API gateway.
//
// ClientSecret and APIKey are secrets: they are redacted when the value is
// printed, logged or marshalled to JSON.
type ClientInfo struct {
	// ClientID is the client identifier. Required by every authorizer.
	ClientID string `json:"client_id"`
	// ClientSecret is the client secret. Optional: public clients have none.
	ClientSecret string `json:"client_secret,omitempty"`
	// APIKey, when set, is sent in the X-Api-Key header of every request.
	APIKey string `json:"api_key,omitempty"`
}

// BasicAuth returns the client id and secret encoded for HTTP Basic
// authentication at a token endpoint: each is form-urlencoded first, as
// RFC 6749 §2.3.1 requires, so that ':' and other reserved characters in a
// secret survive. Pass the results to (*http.Request).SetBasicAuth.
func (c ClientInfo) BasicAuth() (id, secret string) {
	return url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret)
}

// redacted returns c with its secrets replaced, for printing.
func (c ClientInfo) redacted() clientInfoView {
	return clientInfoView{ClientID: c.ClientID, ClientSecret: redact(c.ClientSecret), APIKey: redact(c.APIKey)}
}

// clientInfoView has ClientInfo's fields but none of its methods, so that
// formatting it does not recurse.
type clientInfoView struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	APIKey       string `json:"api_key,omitempty"`
}

// String returns the client id and whether a secret and an API key are set.
func (c ClientInfo) String() string {
	return fmt.Sprintf("%+v", c.redacted())
}

// GoString implements [fmt.GoStringer] for %#v, without secrets.
func (c ClientInfo) GoString() string {
	return fmt.Sprintf("data.ClientInfo%+v", c.redacted())
}

// Format implements [fmt.Formatter] so that every verb prints the redacted form.
func (c ClientInfo) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue implements [slog.LogValuer].
func (c ClientInfo) LogValue() slog.Value {
	v := c.redacted()
	return slog.GroupValue(slog.String("client_id", v.ClientID),
		slog.String("client_secret", v.ClientSecret), slog.String("api_key", v.APIKey))
}

// MarshalJSON implements [json.Marshaler] with the secrets redacted. Decoding
// (UnmarshalJSON is not overridden) reads real values, so configuration
// files still load.
func (c ClientInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.redacted())
}
