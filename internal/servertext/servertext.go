// Package servertext cleans text that came from a server (an error
// message, an error_description, a callback's error) before the SDK quotes
// it in an error or a log line: it removes the secrets the SDK sent in the
// same exchange, replaces control characters, and caps the length.
//
// It is the one cleaner for the whole SDK (srp's Cognito messages; the
// token endpoint's fields in internal/tokenwire; the browser callback's
// error in oauth2auth), so that the rules cannot drift between copies.
package servertext

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limit is the usual cap, in bytes, for one quoted field.
const Limit = 256

// Redacted replaces every secret found in the text.
const Redacted = "[redacted]"

// ellipsis marks text that was cut.
const ellipsis = "…"

// Clean returns s made safe to quote:
//
//  1. every occurrence of each non-empty secret is replaced by [Redacted],
//     in the forms a server is likely to echo it: as sent, URL-encoded
//     (form and path escaping) and JSON-escaped;
//  2. control characters (including newlines and escape sequences),
//     invalid UTF-8 and U+FFFD become a space, so a server cannot inject
//     lines into logs or drive a terminal;
//  3. the result is cut to at most limit bytes (plus "…" when cut), at a
//     character boundary, so a server cannot flood a message. limit <= 0
//     means [Limit].
//
// Secrets are removed before the cut, so a secret straddling the cut is
// removed whole. Clean never panics.
func Clean(s string, limit int, secrets ...string) string {
	if limit <= 0 {
		limit = Limit
	}
	s = Scrub(s, secrets...)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	return cut(s, limit)
}

// Scrub replaces every occurrence of each non-empty secret in s (as sent,
// URL-encoded with upper- or lower-case hex, or JSON-escaped) by
// [Redacted]. Longer secrets go first, so
// a secret that contains another is removed whole. Text in which a secret
// keeps reappearing becomes [Redacted] as a whole. A part of a long secret
// (at least [MinFragment] bytes of one of 2×MinFragment or more, as sent)
// is removed too: a server that quotes the first 200 characters of a
// token quotes a secret all the same.
func Scrub(s string, secrets ...string) string {
	return scrubFragments(scrubWhole(s, secrets), secrets)
}

// MinFragment is the shortest part of a long secret that Scrub removes.
const MinFragment = 16

// scrubFragments replaces every run of s of at least MinFragment bytes
// that also occurs in a secret of 2×MinFragment bytes or more.
func scrubFragments(s string, secrets []string) string {
	if len(s) < MinFragment {
		return s
	}
	windows := map[string]struct{}{}
	for _, sec := range secrets {
		if len(sec) < 2*MinFragment {
			continue
		}
		for i := 0; i+MinFragment <= len(sec); i++ {
			windows[sec[i:i+MinFragment]] = struct{}{}
		}
	}
	if len(windows) == 0 {
		return s
	}
	covered := make([]bool, len(s))
	found := false
	for i := 0; i+MinFragment <= len(s); i++ {
		if _, ok := windows[s[i:i+MinFragment]]; ok {
			for j := i; j < i+MinFragment; j++ {
				covered[j] = true
			}
			found = true
		}
	}
	if !found {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !covered[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString(Redacted)
		for i+1 < len(s) && covered[i+1] {
			i++
		}
	}
	return b.String()
}

// scrubWhole replaces every whole occurrence of each secret's forms.
func scrubWhole(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		q, p := url.QueryEscape(sec), url.PathEscape(sec)
		forms = append(forms, sec, q, p, lowerHex(q), lowerHex(p), jsonEscape(sec))
	}
	// Longest first: a secret that contains another must go whole.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	// A replacement can join its neighbours into a secret again (a secret
	// "]ab]" in "]ab]ab]"): repeat a few times, then give up on the text.
	for range 4 {
		found := false
		for _, f := range forms {
			if f != "" && strings.Contains(s, f) {
				s, found = strings.ReplaceAll(s, f, Redacted), true
			}
		}
		if !found {
			return s
		}
	}
	return Redacted
}

// lowerHex returns a percent-encoded s with its hex digits in lower case
// (RFC 3986 §2.1 makes them equivalent; some servers re-encode so).
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// cut shortens s to at most limit bytes at a character boundary.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ellipsis
}

// jsonEscape returns sec as encoding/json writes it inside a string,
// without the quotes.
func jsonEscape(sec string) string {
	b, _ := json.Marshal(sec) // a string always marshals
	return string(b[1 : len(b)-1])
}
