package endpoint

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Issue 18 item 12: the loopback rule lives here only. Before, base,
// oauth2auth and srp each had their own isLoopback (and two endpoint
// validators), and they disagreed (net.ParseIP vs netip on IPv4-mapped
// addresses). This test fails when a package of the module writes the rule
// again instead of calling IsLoopback or Check.
func TestOneLoopbackRule(t *testing.T) {
	root := filepath.Join("..", "..")
	rule := regexp.MustCompile(`\.IsLoopback\(\)|EqualFold\([^,]+, "localhost"\)`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Base(filepath.Dir(path)) == "endpoint" && strings.Contains(path, "internal") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rule.Match(b) {
			t.Errorf("%s decides loopback itself: call endpoint.IsLoopback or endpoint.Check", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
