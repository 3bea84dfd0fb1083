package dpop

import (
	"net/http"
	"strings"
	"sync"
)

// maxNonces bounds how many servers' nonces a Nonces remembers.
const maxNonces = 256

// Nonces remembers the newest nonce each server sent (RFC 9449 §8, §9),
// keyed by [Origin]. It is safe for concurrent use; the zero value is ready.
// It holds at most 256 servers: beyond that the oldest is forgotten (that
// server then asks again with use_dpop_nonce).
type Nonces struct {
	mu    sync.Mutex
	m     map[string]string
	order []string
}

// Get returns the newest nonce of origin, or "".
func (n *Nonces) Get(origin string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[origin]
}

// Put records nonce as origin's newest; an invalid nonce ([ValidNonce]) or
// an empty origin is ignored.
func (n *Nonces) Put(origin, nonce string) {
	if origin == "" || !ValidNonce(nonce) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = make(map[string]string)
	}
	if _, ok := n.m[origin]; !ok {
		if len(n.order) >= maxNonces {
			delete(n.m, n.order[0])
			n.order = n.order[1:]
		}
		n.order = append(n.order, origin)
	}
	n.m[origin] = nonce
}

// Observe records the DPoP-Nonce of a response from origin, if it has one.
func (n *Nonces) Observe(origin string, h http.Header) {
	if v := h.Values(NonceHeader); len(v) == 1 {
		n.Put(origin, v[0])
	}
}

// ResourceNonceChallenge reports whether a resource server's 401 asks for a
// nonce (RFC 9449 §9): a WWW-Authenticate challenge of scheme DPoP with
// error="use_dpop_nonce", and a valid DPoP-Nonce header, which it returns.
func ResourceNonceChallenge(resp *http.Response) (nonce string, ok bool) {
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		return "", false
	}
	v := resp.Header.Values(NonceHeader)
	if len(v) != 1 || !ValidNonce(v[0]) {
		return "", false
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		if challengeAsksNonce(c) {
			return v[0], true
		}
	}
	return "", false
}

// challengeAsksNonce reports whether a WWW-Authenticate value holds a DPoP
// challenge with error="use_dpop_nonce" (quoted or not). The value is read
// challenge by challenge (RFC 9110 §11.6.1): an error parameter belongs to
// the scheme it follows, so a Bearer challenge's error is not DPoP's.
func challengeAsksNonce(c string) bool {
	scheme := ""
	for _, elem := range splitOutsideQuotes(c) {
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue
		}
		name, _, isParam := strings.Cut(elem, "=")
		if first, rest, ok := strings.Cut(elem, " "); ok && !strings.Contains(first, "=") && !strings.HasPrefix(strings.TrimSpace(rest), "=") {
			scheme, elem = first, strings.TrimSpace(rest) // a new challenge: scheme, then its first parameter
			name, _, isParam = strings.Cut(elem, "=")
		} else if !isParam {
			scheme, elem = elem, "" // a new challenge without parameters
		}
		if !isParam || !strings.EqualFold(scheme, TokenType) || !strings.EqualFold(strings.TrimSpace(name), "error") {
			continue
		}
		_, val, _ := strings.Cut(elem, "=")
		if strings.Trim(strings.TrimSpace(val), `"`) == ErrorUseNonce {
			return true
		}
	}
	return false
}

// splitOutsideQuotes splits s at the commas that are not inside a quoted
// string (a backslash escapes the next byte inside one).
func splitOutsideQuotes(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
