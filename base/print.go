package base

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/seed-d44eba79/authorizer/data"
)

// transportView is what a printed Transport shows: its configuration, with
// the API key redacted and no token.
type transportView struct {
	Authorizer string `json:"authorizer"`
	APIKey     string `json:"api_key,omitempty"`
	Cache      string `json:"cache,omitempty"`
	Closed     bool   `json:"closed"`
}

func (t *Transport) view() transportView {
	v := transportView{Authorizer: fmt.Sprintf("%T", t.a), Closed: t.closed.Load()}
	if t.apiKey != nil {
		v.APIKey = data.Redacted
	}
	if t.cfg.cache != nil {
		v.Cache = fmt.Sprintf("%T", t.cfg.cache)
	}
	return v
}

// String describes t without its secrets: the Authorizer's and the cache's
// types, whether an API key is set, and whether t is closed.
func (t *Transport) String() string { return fmt.Sprintf("base.Transport%+v", t.view()) }

// GoString implements [fmt.GoStringer] for %#v, without secrets.
func (t *Transport) GoString() string { return t.String() }

// Format implements [fmt.Formatter] so that every verb prints String.
func (t *Transport) Format(f fmt.State, verb rune) { formatAs(f, verb, t.String()) }

// LogValue implements [slog.LogValuer].
func (t *Transport) LogValue() slog.Value {
	v := t.view()
	return slog.GroupValue(slog.String("authorizer", v.Authorizer), slog.String("api_key", v.APIKey),
		slog.String("cache", v.Cache), slog.Bool("closed", v.Closed))
}

// MarshalJSON implements [json.Marshaler] with the same redacted view.
func (t *Transport) MarshalJSON() ([]byte, error) { return json.Marshal(t.view()) }

// formatAs prints s for every verb (quoted for %q), so that no verb reaches
// the fields of a value that holds a secret.
func formatAs(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	fmt.Fprint(f, s)
}

// String describes c without its tokens: how many keys it holds.
func (c *MemoryCache) String() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return fmt.Sprintf("base.MemoryCache{tokens: %d}", len(c.tokens))
}

// GoString implements [fmt.GoStringer] for %#v, without tokens.
func (c *MemoryCache) GoString() string { return c.String() }

// Format implements [fmt.Formatter] so that every verb prints String.
func (c *MemoryCache) Format(f fmt.State, verb rune) { formatAs(f, verb, c.String()) }

// LogValue implements [slog.LogValuer].
func (c *MemoryCache) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON implements [json.Marshaler] without tokens.
func (c *MemoryCache) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

func (a tokenSourceAuthorizer) String() string {
	return fmt.Sprintf("base.FromTokenSource(%T)", a.ts)
}

func (a tokenSourceAuthorizer) GoString() string              { return a.String() }
func (a tokenSourceAuthorizer) Format(f fmt.State, verb rune) { formatAs(f, verb, a.String()) }
func (a tokenSourceAuthorizer) LogValue() slog.Value          { return slog.StringValue(a.String()) }
func (a tokenSourceAuthorizer) MarshalJSON() ([]byte, error)  { return json.Marshal(a.String()) }
