package web

import "net/url"

// sameSiteWhenResolved resolves target against https://app.example/dir/ as
// a browser would (backslashes read as slashes, tabs and newlines dropped).
func sameSiteWhenResolved(target string) bool {
	base, _ := url.Parse("https://app.example/dir/")
	clean := make([]byte, 0, len(target))
	for i := 0; i < len(target); i++ {
		switch c := target[i]; c {
		case '\t', '\n', '\r':
		case '\\':
			clean = append(clean, '/')
		default:
			clean = append(clean, c)
		}
	}
	u, err := url.Parse(string(clean))
	if err != nil {
		return false
	}
	r := base.ResolveReference(u)
	return r.Host == "app.example" && r.Scheme == "https" && r.User == nil
}
