package verify

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// A small, allocation-free JSON reader for the two flat objects of a JWS
// (header and claims). It validates the whole input as strict JSON while it
// walks the top level, so no second pass is needed, and it reports duplicate
// member names, which encoding/json silently merges.

// maxJSONDepth bounds nesting inside a claim value.
const maxJSONDepth = 32

// maxMembers bounds the top-level members of one object.
const maxMembers = 128

var errJSON = errors.New("not a valid JSON object")

// walkObject calls fn for each top-level member of the JSON object s, in
// order, with the member's name (unescaped), its raw value, and the whole
// member text (`"name": value`). It fails on invalid JSON, trailing data, a
// duplicate name (compared as encoding/json does, ignoring case), or more
// than maxMembers members.
func walkObject(s string, fn func(name, value, member string) error) error {
	var seen [maxMembers]string
	n := 0
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return errJSON
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return trailing(s, i+1)
	}
	for {
		at := i
		name, next, err := readName(s, i)
		if err != nil {
			return err
		}
		// encoding/json (Claims.Decode) matches names as EqualFold does
		// and keeps the last, so such names are duplicates too.
		if hasFold(seen[:n], name) {
			return errors.New("duplicate member")
		}
		if n == maxMembers {
			return errors.New("too many members")
		}
		seen[n] = name
		n++
		start := skipSpace(s, next)
		end, ok := skipValue(s, start, 0)
		if !ok {
			return errJSON
		}
		if err := fn(name, s[start:end], s[at:end]); err != nil {
			return err
		}
		i = skipSpace(s, end)
		if i >= len(s) {
			return errJSON
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return trailing(s, i+1)
		default:
			return errJSON
		}
	}
}

// readName reads `"name" :` at i and returns the name and the index after
// the colon.
func readName(s string, i int) (string, int, error) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, errJSON
	}
	end, esc, ok := skipString(s, i)
	if !ok {
		return "", 0, errJSON
	}
	name, err := stringValue(s[i:end], esc)
	if err != nil {
		return "", 0, err
	}
	j := skipSpace(s, end)
	if j >= len(s) || s[j] != ':' {
		return "", 0, errJSON
	}
	return name, j + 1, nil
}

func trailing(s string, i int) error {
	if skipSpace(s, i) != len(s) {
		return errJSON
	}
	return nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i.
func skipValue(s string, i, depth int) (int, bool) {
	if i >= len(s) || depth > maxJSONDepth {
		return 0, false
	}
	switch c := s[i]; {
	case c == '"':
		end, _, ok := skipString(s, i)
		return end, ok
	case c == '{':
		return skipContainer(s, i, depth, '}', true)
	case c == '[':
		return skipContainer(s, i, depth, ']', false)
	case c == 't':
		return skipLiteral(s, i, "true")
	case c == 'f':
		return skipLiteral(s, i, "false")
	case c == 'n':
		return skipLiteral(s, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(s, i)
	}
	return 0, false
}

func skipLiteral(s string, i int, lit string) (int, bool) {
	if len(s)-i < len(lit) || s[i:i+len(lit)] != lit {
		return 0, false
	}
	return i + len(lit), true
}

// skipContainer skips an object (named members) or an array. An object
// with two members whose names are equal ignoring case (encoding/json, and
// so Claims.Decode, would keep the last) is malformed: a second parser
// could read the first.
func skipContainer(s string, i, depth int, closer byte, named bool) (int, bool) {
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == closer {
		return i + 1, true
	}
	var names []string // of a named container: duplicates are refused at every depth
	for {
		if named {
			name, next, err := readName(s, i)
			if err != nil || hasFold(names, name) {
				return 0, false
			}
			names = append(names, name)
			i = skipSpace(s, next)
		}
		end, ok := skipValue(s, i, depth+1)
		if !ok {
			return 0, false
		}
		i = skipSpace(s, end)
		if i >= len(s) {
			return 0, false
		}
		if s[i] == closer {
			return i + 1, true
		}
		if s[i] != ',' {
			return 0, false
		}
		i = skipSpace(s, i+1)
	}
}

// skipString returns the end of the string starting at s[i] == '"' and
// whether it holds escapes.
func skipString(s string, i int) (end int, esc, ok bool) {
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return j + 1, esc, true
		case c == '\\':
			esc = true
			if j+1 >= len(s) {
				return 0, false, false
			}
			j++
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex4(s[j+1:j+5]) {
					return 0, false, false
				}
				j += 4
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber skips a JSON number (RFC 8259 §6 grammar).
func skipNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// stringValue returns the text of a quoted JSON string; it allocates only
// when the string holds escapes.
func stringValue(quoted string, esc bool) (string, error) {
	if !esc {
		return quoted[1 : len(quoted)-1], nil
	}
	var v string
	if err := json.Unmarshal([]byte(quoted), &v); err != nil {
		return "", errJSON
	}
	return v, nil
}

// jsonString reads a raw value that must be a JSON string. raw comes from
// walkObject or jsonStrings, which validated it, so a string without
// backslash needs no second scan.
func jsonString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], true
	}
	end, esc, ok := skipString(raw, 0)
	if !ok || end != len(raw) {
		return "", false
	}
	v, err := stringValue(raw, esc)
	return v, err == nil
}

// jsonNumericDate reads a raw value that must be a JSON number (RFC 7519
// NumericDate, seconds, fractions allowed) and returns it in whole seconds. Negative values and values past
// year 31 million are refused.
func jsonNumericDate(raw string) (int64, bool) {
	if raw == "" || raw[0] < '0' || raw[0] > '9' {
		return 0, false // negative dates are refused
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n <= 1e15 {
		return n, true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f != f || f > 1e15 {
		return 0, false
	}
	return int64(f), true
}

// jsonStrings reads a raw value that is a JSON string or an array of
// strings; one string gives a slice of one.
func jsonStrings(raw string, one bool) ([]string, bool) {
	if s, ok := jsonString(raw); ok {
		if !one {
			return nil, false
		}
		return []string{s}, true
	}
	if raw == "" || raw[0] != '[' {
		return nil, false
	}
	var out []string
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return []string{}, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return nil, false
		}
		end, esc, ok := skipString(raw, i)
		if !ok {
			return nil, false
		}
		s, err := stringValue(raw[i:end], esc)
		if err != nil {
			return nil, false
		}
		out = append(out, s)
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ']' {
			return out, true
		}
		if i >= len(raw) || raw[i] != ',' {
			return nil, false
		}
		i = skipSpace(raw, i+1)
	}
	return nil, false
}

// hasFold reports whether names holds name, ignoring case.
func hasFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
