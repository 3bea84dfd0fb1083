package web

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds a return-to target.
const maxReturnTo = 2048

// safeReturnTo returns target when it is a same-site relative path
// ("/page?x=1"), and "/" for anything else: absolute and scheme-relative
// URLs, backslashes, control characters and whitespace anywhere, encoded
// slashes or backslashes that a browser or a backend might read as a
// second leading slash, and targets over 2 KiB.
func safeReturnTo(target string) string {
	if !relativeTarget(target) {
		return "/"
	}
	return target
}

func relativeTarget(t string) bool {
	if len(t) == 0 || len(t) > maxReturnTo || t[0] != '/' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {
			return false
		}
	}
	u, err := url.Parse(t)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	if !strings.HasPrefix(u.Path, "/") {
		return false
	}
	// Decoded, the path must still not start like an authority.
	d := u.Path
	for range 3 {
		if strings.HasPrefix(d, "//") || strings.ContainsAny(d, "\\\r\n\t\x00") {
			return false
		}
		n, err := url.PathUnescape(d)
		if err != nil {
			return false
		}
		if n == d {
			break
		}
		d = n
	}
	return !strings.HasPrefix(d, "//") && !strings.ContainsAny(d, "\\\r\n\t\x00")
}
