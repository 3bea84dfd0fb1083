package authorizer_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// qualifiedRe finds a reference to an exported identifier of an SDK
// package in prose, e.g. "base.Transport" or "*authorizer.InvalidConfigError".
var qualifiedRe = regexp.MustCompile(`\*?\b(authorizer|base|data|filecache|srp|oauth2auth)\.[A-Z]\w*`)

// TestDocLinks: the doc comments of these packages write references to
// other SDK packages' identifiers as doc links ([base.Transport]), so that
// pkg.go.dev and go doc readers can follow them. Code blocks (indented
// comment lines) and a package's references to itself are exempt.
func TestDocLinks(t *testing.T) {
	for _, dir := range []string{".", "data", "filecache", "srp"} {
		own := filepath.Base(dir)
		if dir == "." {
			own = "authorizer"
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, bad := range unlinked(t, f, own) {
				t.Errorf("%s: %q is not a doc link", f, bad)
			}
		}
	}
}

// unlinked returns the references in f's comments that are not doc links.
func unlinked(t *testing.T, f, own string) []string {
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var bad []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		text, ok := strings.CutPrefix(line, "//")
		if !ok || strings.HasPrefix(text, "\t") || strings.HasPrefix(text, "go:") {
			continue
		}
		if strings.HasPrefix(text, " [") && strings.Contains(text, "]: ") {
			continue // a link definition
		}
		for _, loc := range qualifiedRe.FindAllStringSubmatchIndex(text, -1) {
			ref, pkg := text[loc[0]:loc[1]], text[loc[2]:loc[3]]
			if pkg == own || (loc[0] > 0 && text[loc[0]-1] == '[') || strings.Count(text[:loc[0]], "`")%2 == 1 {
				continue
			}
			bad = append(bad, ref)
		}
	}
	return bad
}
