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
func (t *Transport) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", t.String())
		return
	}
	fmt.Fprint(f, t.String())
}

// LogValue implements [slog.LogValuer].
func (t *Transport) LogValue() slog.Value {
	v := t.view()
	return slog.GroupValue(slog.String("authorizer", v.Authorizer), slog.String("api_key", v.APIKey),
		slog.String("cache", v.Cache), slog.Bool("closed", v.Closed))
}

// MarshalJSON implements [json.Marshaler] with the same redacted view.
func (t *Transport) MarshalJSON() ([]byte, error) { return json.Marshal(t.view()) }
