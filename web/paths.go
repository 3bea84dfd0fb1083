package web

import (
	"errors"
	"net/url"
	"path"
	"strings"
)

// A pathRule is one entry of Config.ProtectedPaths.
type pathRule struct {
	path string
	kind ruleKind
}

type ruleKind int

const (
	exactOrSlash ruleKind = iota // "/account": /account and /account/
	exactOnly                    // "=/account"
	prefix                       // "/admin/": /admin and everything under /admin/
)

func parseRule(s string) (pathRule, error) {
	r := pathRule{path: s}
	if strings.HasPrefix(s, "=") {
		r.kind, r.path = exactOnly, s[1:]
	} else if strings.HasSuffix(s, "/") {
		r.kind = prefix
	}
	if !strings.HasPrefix(r.path, "/") {
		return r, errors.New("holds " + quote(s) + ", which does not start with /")
	}
	if matchPath(r.path) != r.path {
		return r, errors.New("holds " + quote(s) + ", which is not a clean path")
	}
	return r, nil
}

func quote(s string) string { return "\"" + strings.ToValidUTF8(s, "?") + "\"" }

// matches reports whether the cleaned path p falls under r.
func (r pathRule) matches(p string) bool {
	switch r.kind {
	case exactOnly:
		return p == r.path
	case prefix:
		return strings.HasPrefix(p, r.path) || p == strings.TrimSuffix(r.path, "/")
	default:
		return p == r.path || p == r.path+"/"
	}
}

// protected reports whether a request for urlPath (URL.Path, already
// percent-decoded once) needs a session. The app behind the middleware may
// read the path in any of several forms, so the request is protected when
// any of them is: the path as given (what http.ServeMux routes on), and as
// decoded again up to three times, each cleaned with backslashes kept and
// with backslashes read as slashes, and each also without ";" parameters
// or what follows a "?" or "#". Matching only the most-decoded form
// would let "/private/x%252F..%252F..%252Fpublic" pass as "/public" while
// the app routes it to /private/.
func protected(rules []pathRule, urlPath string) bool {
	p := urlPath
	for i := 0; ; i++ {
		if matchesForm(rules, p) {
			return true
		}
		if strings.Contains(p, "\\") && matchesForm(rules, strings.ReplaceAll(p, "\\", "/")) {
			return true
		}
		if i == 3 || !strings.Contains(p, "%") {
			return false
		}
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			return false
		}
		p = d
	}
}

// matchesForm matches p cleaned, and also as a server that ends the path
// at a "?" or "#" (decoded from %3F, %23) and drops ";" parameters from
// each segment (Java servlet containers) would read it.
func matchesForm(rules []pathRule, p string) bool {
	if matchesAny(rules, cleanPath(p)) {
		return true
	}
	if !strings.ContainsAny(p, ";?#") {
		return false
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if j := strings.IndexByte(seg, ';'); j >= 0 {
			segs[i] = seg[:j]
		}
	}
	return matchesAny(rules, cleanPath(strings.Join(segs, "/")))
}

func matchesAny(rules []pathRule, p string) bool {
	for _, r := range rules {
		if r.matches(p) {
			return true
		}
	}
	return false
}

// matchPath is the form a path is matched in: decoded until no
// percent-escape is left (so %252F cannot hide a slash from a backend that
// decodes twice), backslashes read as slashes, dot segments resolved, runs of
// slashes collapsed, and a trailing slash kept.
func matchPath(p string) string {
	for range 3 {
		if !strings.Contains(p, "%") {
			break
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			break
		}
		p = d
	}
	return cleanPath(strings.ReplaceAll(p, "\\", "/"))
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
