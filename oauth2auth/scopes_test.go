package oauth2auth

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestMissingScopesWarning(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		extra     map[string]any
		want      string // "" for no warning
	}{
		{"all granted", []string{"a", "b"}, map[string]any{"scope": "b a"}, ""},
		{"no scope field means all", []string{"a"}, map[string]any{}, ""},
		{"one missing", []string{"a", "b", "c"}, map[string]any{"scope": "a"}, "missing_scopes=\"[b c]\""},
		{"more granted", []string{"a"}, map[string]any{"scope": "a z"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&b, nil))
			tok := (&oauth2.Token{AccessToken: "at"}).WithExtra(tt.extra)
			warnMissingScopes(logger, "device", tt.requested, tok)
			if tt.want == "" {
				if b.Len() != 0 {
					t.Errorf("unexpected warning: %s", b.String())
				}
				return
			}
			if !strings.Contains(b.String(), "level=WARN") || !strings.Contains(b.String(), tt.want) {
				t.Errorf("log = %q; want a warning with %s", b.String(), tt.want)
			}
		})
	}
}
