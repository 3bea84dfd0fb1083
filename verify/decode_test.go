package verify

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeSameAsEncodingJSON: Decode's reduced input gives what
// encoding/json gives on the whole claims, for targets that take it and
// targets that do not.
func TestDecodeSameAsEncodingJSON(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	claims := with(goodClaims(), "userid", "u-1", "service", "billing", "permissions", []string{"a", "b"},
		"cognito:groups", []string{"g"}, "Nested", map[string]any{"x": 1}, "USERID", "shadow")
	c, err := v.Verify(context.Background(), token(priv, "RS256", "", claims))
	if err != nil {
		t.Fatal(err)
	}
	type perm struct {
		UserID      string   `json:"userid"`
		Service     string   `json:"service"`
		Permissions []string `json:"permissions"`
		Groups      []string `json:"cognito:groups"`
		Nested      json.RawMessage
		Skip        string `json:"-"`
	}
	type withIss struct {
		Iss         string
		Permissions []string `json:"permissions"`
	}
	type tagged struct {
		E int64 `json:"EXP"`
	}
	type Inner struct {
		Sub string `json:"sub"`
	}
	type embedded struct {
		Inner
		UserID string `json:"userid"`
	}
	for _, tc := range []struct {
		name    string
		target  func() any
		reduced bool
	}{
		{"permission struct", func() any { return new(perm) }, true},
		{"field named Iss", func() any { return new(withIss) }, false},
		{"tag EXP", func() any { return new(tagged) }, false},
		{"embedded struct", func() any { return new(embedded) }, false},
		{"map", func() any { return new(map[string]any) }, false},
		{"any", func() any { var x any; return &x }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := takesNoRegistered(reflect.TypeOf(tc.target())); got != tc.reduced {
				t.Errorf("takesNoRegistered = %v; want %v", got, tc.reduced)
			}
			got, want := tc.target(), tc.target()
			errGot := c.Decode(got)
			errWant := json.Unmarshal([]byte(c.raw), want)
			if (errGot == nil) != (errWant == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("Decode = %+v, %v; encoding/json = %+v, %v", got, errGot, want, errWant)
			}
		})
	}
}

// TestDecodeManyMembers: more members than kept falls back to the whole
// claims.
func TestDecodeManyMembers(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	claims := goodClaims()
	for i := range maxOthers + 3 {
		claims[string(rune('a'+i))+"x"] = i
	}
	c, err := v.Verify(context.Background(), token(priv, "RS256", "", claims))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Last int `json:"ox"`
	}
	if c.nOthers != -1 || c.Decode(&got) != nil || got.Last != 14 {
		t.Errorf("nOthers %d, got %+v", c.nOthers, got)
	}
}
