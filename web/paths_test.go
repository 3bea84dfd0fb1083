package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProtectedPathTable(t *testing.T) {
	rules := mustRules(t, "/admin/", "/account", "=/exact")
	for _, tc := range []struct {
		name, path string
		want       bool
	}{
		{"prefix", "/admin/users", true},
		{"prefix dir itself", "/admin", true},
		{"prefix slash", "/admin/", true},
		{"exact", "/account", true},
		{"exact trailing slash", "/account/", true},
		{"exact longer", "/accounts", false},
		{"exact child", "/account/x", false},
		{"exact only", "/exact", true},
		{"exact only slash", "/exact/", false},
		{"public", "/", false},
		{"double slash", "//admin/x", true},
		{"double slash inside", "/admin//x", true},
		{"dot segment", "/public/../admin/x", true},
		{"dot", "/./admin/x", true},
		{"dot account", "/x/../account", true},
		{"encoded slash (decoded by net/url)", "/admin/x", true},
		{"double-encoded slash", "/admin%2Fx", true},
		{"encoded dots", "/public/%2e%2e/admin/x", true},
		{"backslash", "/admin\\x", true},
		{"backslash start", "\\admin\\x", true},
		{"empty", "", false},
		{"prefix lookalike", "/administrator", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := protected(rules, tc.path); got != tc.want {
				t.Errorf("protected(%q) = %v; want %v", tc.path, got, tc.want)
			}
		})
	}
}

// Through the middleware: the query and fragment never matter, and raw
// request targets with encodings are matched on the decoded, cleaned path.
func TestProtectedPathBypassesThroughHTTP(t *testing.T) {
	rg := newRig(t, func(c *Config, _ *fakeIdP) { c.ProtectedPaths = []string{"/admin/", "/account"} })
	for _, target := range []string{
		"/admin/x", "/admin/x?", "/admin/x#frag", "/admin%2fx", "/admin%252fx", "//admin/x",
		"/public/..%2fadmin/x", "/%61dmin/x", "/account?x=/public", "/account/", "/account%2F", "/./account",
	} {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Accept", "application/json")
		w := httptest.NewRecorder()
		rg.login.Wrap(http.NotFoundHandler()).ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d; want 401", target, w.Code)
		}
	}
	for _, target := range []string{"/public", "/public?/admin/", "/accounts", "/public#/admin/"} {
		req := httptest.NewRequest("GET", target, nil)
		w := httptest.NewRecorder()
		rg.login.Wrap(http.NotFoundHandler()).ServeHTTP(w, req)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: %d; want the app's 404", target, w.Code)
		}
	}
}

func mustRules(t *testing.T, paths ...string) []pathRule {
	var rules []pathRule
	for _, p := range paths {
		r, err := parseRule(p)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	return rules
}
