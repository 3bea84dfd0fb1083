package oauth2auth

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Printing an authorizer shows what identifies it (type, client id,
// environment name, issuer or token URL) and never the client secret, the
// API key, the signing key or a token: fmt's verbs (%v %+v %#v %s), slog
// (text and JSON handlers) and encoding/json all go through the methods
// below. The fields that hold secrets sit behind pointers, so that even a
// dereferenced copy prints addresses, not secrets.

// describe is the one description of an authorizer; jkt is its DPoP key's
// thumbprint ("" without WithDPoP), the only thing shown of the key.
func describe(kind, clientID string, env *Environment, jkt string) map[string]string {
	m := map[string]string{"type": "oauth2auth." + kind, "client_id": clientID}
	if jkt != "" {
		m["dpop_jkt"] = jkt
	}
	if env.Name != "" {
		m["environment"] = env.Name
	}
	if env.Issuer != "" {
		m["issuer"] = env.Issuer
	} else if env.TokenURL != "" {
		m["token_url"] = env.TokenURL
	}
	return m
}

// describedKeys are describe's optional entries, in print order.
var describedKeys = []string{"environment", "issuer", "token_url", "dpop_jkt"}

func describeString(m map[string]string) string {
	s := m["type"] + "{client_id: " + fmt.Sprintf("%q", m["client_id"])
	for _, k := range describedKeys {
		if v, ok := m[k]; ok {
			s += ", " + k + ": " + fmt.Sprintf("%q", v)
		}
	}
	return s + "}"
}

func describeLog(m map[string]string) slog.Value {
	attrs := []slog.Attr{slog.String("type", m["type"]), slog.String("client_id", m["client_id"])}
	for _, k := range describedKeys {
		if v, ok := m[k]; ok {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	return slog.GroupValue(attrs...)
}

// The ServiceAccountAuthorizer's methods have value receivers, so that a
// dereferenced copy redacts as well (its fields are pointers and an
// Environment: copying it is cheap and safe).
func (a ServiceAccountAuthorizer) describe() map[string]string {
	if a.info == nil {
		return map[string]string{"type": "oauth2auth.ServiceAccountAuthorizer"}
	}
	jkt := ""
	if a.opts != nil {
		jkt = a.opts.thumbprint()
	}
	return describe("ServiceAccountAuthorizer", a.info.ClientID, &a.config, jkt)
}

// String describes a without its secrets.
func (a ServiceAccountAuthorizer) String() string { return describeString(a.describe()) }

// GoString is String, for %#v.
func (a ServiceAccountAuthorizer) GoString() string { return a.String() }

// Format prints String for every verb.
func (a ServiceAccountAuthorizer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// LogValue implements [slog.LogValuer] without the secrets.
func (a ServiceAccountAuthorizer) LogValue() slog.Value { return describeLog(a.describe()) }

// MarshalJSON encodes the description, without the secrets.
func (a ServiceAccountAuthorizer) MarshalJSON() ([]byte, error) { return json.Marshal(a.describe()) }

func (s *userSession) describe() map[string]string {
	if s == nil {
		return map[string]string{"type": "oauth2auth.UserAuthorizer"}
	}
	kind := "DeviceAuthorizer"
	if s.flow == flowBrowser {
		kind = "BrowserAuthorizer"
	}
	jkt := ""
	if k := s.sessionKey(); k != nil {
		jkt = k.Thumbprint()
	}
	return describe(kind, s.info.ClientID, &s.config, jkt)
}

// String describes the authorizer without its secrets or tokens.
func (s *userSession) String() string { return describeString(s.describe()) }

// GoString is String, for %#v.
func (s *userSession) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *userSession) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements [slog.LogValuer] without the secrets or tokens.
func (s *userSession) LogValue() slog.Value { return describeLog(s.describe()) }

// MarshalJSON encodes the description, without the secrets or tokens.
func (s *userSession) MarshalJSON() ([]byte, error) { return json.Marshal(s.describe()) }
