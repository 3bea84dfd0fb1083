package verify

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Compact JWS parsing (RFC 7515 §7.1). The token is bounded and split
// before anything is decoded; the three segments are decoded into one
// buffer that is never written again, so the strings read out of it can
// share it.

var b64 = base64.RawURLEncoding.Strict()

// jws is a split and decoded token.
type jws struct {
	alg, kid string
	input    []byte // signing input: header "." payload, as sent
	payload  string // decoded claims JSON
	sig      []byte
}

func malformed(detail string) error {
	return &authorizer.InvalidTokenError{Reason: authorizer.TokenMalformed, Detail: detail}
}

// parseJWS splits, bounds and decodes raw and reads its header.
func parseJWS(raw string) (jws, error) {
	t, header, err := decodeJWS(raw, MaxTokenSize)
	if err != nil {
		return jws{}, err
	}
	if err := t.readHeader(header); err != nil {
		return jws{}, err
	}
	return t, nil
}

// decodeJWS splits, bounds (limit bytes) and decodes raw; it returns the
// header JSON unread. Its errors are TokenMalformed with a fixed detail.
func decodeJWS(raw string, limit int) (jws, string, error) {
	if len(raw) > limit {
		return jws{}, "", malformed("token is larger than " + strconv.Itoa(limit>>10) + " KiB")
	}
	// The base64 decoder skips CR and LF even in Strict mode: refuse them,
	// or one token would have many spellings (and many cache entries).
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		return jws{}, "", malformed("token holds a line break")
	}
	d1 := strings.IndexByte(raw, '.')
	d2 := strings.LastIndexByte(raw, '.')
	if d1 < 0 || d1 == d2 || strings.IndexByte(raw[d1+1:d2], '.') >= 0 {
		return jws{}, "", malformed("token is not three dot-separated segments")
	}
	h, p, s := raw[:d1], raw[d1+1:d2], raw[d2+1:]
	if h == "" || p == "" || s == "" {
		return jws{}, "", malformed("token has an empty segment")
	}
	nh, np, ns := b64.DecodedLen(len(h)), b64.DecodedLen(len(p)), b64.DecodedLen(len(s))
	buf := make([]byte, nh+np+ns)
	hn, err1 := b64.Decode(buf[:nh], stringBytes(h))
	pn, err2 := b64.Decode(buf[nh:nh+np], stringBytes(p))
	sn, err3 := b64.Decode(buf[nh+np:], stringBytes(s))
	if err1 != nil || err2 != nil || err3 != nil {
		return jws{}, "", malformed("token segment is not base64url")
	}
	header := bytesString(buf[:hn])
	payload := bytesString(buf[nh : nh+pn])
	if !utf8.ValidString(header) || !utf8.ValidString(payload) {
		return jws{}, "", malformed("token JSON is not UTF-8")
	}
	return jws{input: stringBytes(raw[:d2]), payload: payload, sig: buf[nh+np : nh+np+sn]}, header, nil
}

// bytesString views b as a string; b must never change afterwards.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// stringBytes views s as bytes that must only be read.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// readHeader reads alg and kid and refuses header parameters that would
// make the token choose its own key or change how it is processed.
func (t *jws) readHeader(header string) error {
	var bad string
	err := walkObject(header, func(name, value, _ string) error {
		switch name {
		case "alg":
			v, ok := jsonString(value)
			if !ok {
				return errJSON
			}
			t.alg = v
		case "kid":
			v, ok := jsonString(value)
			if !ok {
				return errJSON
			}
			t.kid = v
		case "jku", "x5u", "jwk", "x5c", "crit", "zip", "b64", "enc":
			bad = name
		}
		return nil
	})
	switch {
	case err != nil:
		return malformed("token header is not a valid JSON object")
	case bad != "":
		return malformed("token header parameter " + bad + " is not accepted")
	case t.alg == "":
		return &authorizer.InvalidTokenError{Reason: authorizer.TokenAlgorithm, Detail: "token header has no alg"}
	case !knownAlg(t.alg):
		return &authorizer.InvalidTokenError{Reason: authorizer.TokenAlgorithm, Detail: "alg is none, symmetric or unknown"}
	}
	return nil
}
