package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Proof signs a proof JWT (RFC 9449 §4.2) for one request: method is the
// HTTP method (htm), target the request URL (its query and fragment are
// dropped for htu, see [TargetURI]), accessToken the token sent with it
// ("" for a token request; else its hash is the ath claim), and nonce the
// server's newest nonce ("" for none; a nonce that is not an RFC 9449
// NQCHAR string is an error). Every proof has a new random jti and iat =
// now. Proof is safe for concurrent use; it costs one signature.
func (k *Key) Proof(method string, target *url.URL, accessToken, nonce string, now time.Time) (string, error) {
	ath := ""
	if accessToken != "" {
		ath = AccessTokenHash(accessToken)
	}
	return k.ProofForHash(method, target, ath, nonce, now)
}

// ProofForHash is [Key.Proof] for a caller that computed the access
// token's hash once ([AccessTokenHash]): ath is that hash, or "" for a
// token request. It saves hashing the token for every request.
func (k *Key) ProofForHash(method string, target *url.URL, ath, nonce string, now time.Time) (string, error) {
	if !k.usable() {
		return "", errors.New("dpop: the key is nil or a zero Key (make one with GenerateKey or NewKey)")
	}
	if !token(method) {
		return "", errors.New("dpop: the HTTP method is not a token")
	}
	htu := TargetURI(target)
	if htu == "" || !printable(htu) {
		return "", errors.New("dpop: the target URL has no scheme or host, or bytes a proof cannot carry")
	}
	if ath != "" && !printable(ath) {
		return "", errors.New("dpop: the access token hash is not base64url")
	}
	if nonce != "" && !ValidNonce(nonce) {
		return "", errors.New("dpop: the server's nonce holds characters RFC 9449 does not allow")
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims := make([]byte, 0, 192)
	claims = append(claims, `{"jti":"`...)
	claims = base64.RawURLEncoding.AppendEncode(claims, jti[:])
	claims = append(claims, `","htm":"`...)
	claims = append(claims, method...)
	claims = append(claims, `","htu":"`...)
	claims = append(claims, htu...)
	claims = append(claims, `","iat":`...)
	claims = strconv.AppendInt(claims, now.Unix(), 10)
	if ath != "" {
		claims = append(claims, `,"ath":"`...)
		claims = append(claims, ath...)
		claims = append(claims, '"')
	}
	if nonce != "" {
		claims = append(claims, `,"nonce":"`...)
		claims = append(claims, nonce...)
		claims = append(claims, '"')
	}
	claims = append(claims, '}')
	return k.sign(claims)
}

// sign returns the compact JWS of the proof header and claims.
func (k *Key) sign(claims []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(k.head)+1+enc.EncodedLen(len(claims))+1+enc.EncodedLen(64))
	buf = append(buf, k.head...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, claims)
	sig, err := k.signature(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// signature signs input: ES256 as the 64-byte R || S of RFC 7518 §3.4,
// EdDSA as Ed25519 of the input itself.
func (k *Key) signature(input []byte) ([]byte, error) {
	if k.alg == EdDSA {
		sig, err := k.signer.Sign(nil, input, crypto.Hash(0))
		if err != nil {
			return nil, errors.New("dpop: signing the proof failed")
		}
		return sig, nil
	}
	digest := sha256.Sum256(input)
	var r, s *big.Int
	if k.ec != nil {
		var err error
		if r, s, err = ecdsa.Sign(rand.Reader, k.ec, digest[:]); err != nil {
			return nil, errors.New("dpop: signing the proof failed")
		}
	} else {
		der, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		var sig struct{ R, S *big.Int }
		if err != nil {
			return nil, errors.New("dpop: signing the proof failed")
		}
		if _, err := asn1.Unmarshal(der, &sig); err != nil || sig.R == nil || sig.S == nil {
			return nil, errors.New("dpop: the signer's signature is not ASN.1 ECDSA")
		}
		r, s = sig.R, sig.S
	}
	out := make([]byte, 64)
	if r.Sign() < 0 || s.Sign() < 0 || r.BitLen() > 256 || s.BitLen() > 256 {
		return nil, errors.New("dpop: the signer's signature is out of range")
	}
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// AccessTokenHash is the ath claim for an access token: the base64url
// SHA-256 of its ASCII bytes.
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TargetURI is a request URL as a proof's htu (RFC 9449 §4.2), normalised
// as RFC 9449 §4.3 asks (RFC 3986 §6.2.2, §6.2.3): scheme, host and path,
// without query and fragment; the scheme and host in lower case, an empty
// or default port (80 for http, 443 for https) dropped; in the path,
// percent-encodings in upper case, those of unreserved characters decoded,
// dot segments removed, an empty path "/". Client and server both compare
// TargetURI forms, so spellings of one URL agree. It is "" for a URL
// without scheme or host. A host must be ASCII (an internationalised name
// in its punycode form, as net/http sends it): a proof for another host is
// refused.
func TargetURI(u *url.URL) string {
	if u == nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(host, ":")
	if p := u.Port(); (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	if u.Hostname() == "" {
		return "" // a port without a host name
	}
	path := u.EscapedPath()
	if path != "" && path[0] != '/' {
		path = "/" + path // a hand-built URL's rootless path is not part of its host
	}
	return scheme + "://" + host + normalPath(path)
}

// normalPath normalises an escaped path: percent-encodings in upper case,
// those of unreserved characters decoded, dot segments removed
// (RFC 3986 §5.2.4), "" as "/".
func normalPath(p string) string {
	if !strings.Contains(p, "%") {
		if p = removeDotSegments(p); p == "" {
			return "/"
		}
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(c)
			continue
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		if unreserved(d) {
			b.WriteByte(d)
		} else {
			b.WriteByte('%')
			b.WriteByte(upper(p[i+1]))
			b.WriteByte(upper(p[i+2]))
		}
		i += 2
	}
	out := removeDotSegments(b.String())
	if out == "" {
		return "/"
	}
	return out
}

// removeDotSegments is RFC 3986 §5.2.4 for an absolute path.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	var segs []string
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		last := i == len(parts)-1
		switch seg {
		case ".":
			if last {
				segs = append(segs, "")
			}
		case "..":
			if len(segs) > 1 {
				segs = segs[:len(segs)-1]
			}
			if last {
				segs = append(segs, "")
			}
		default:
			segs = append(segs, seg)
		}
	}
	out := strings.Join(segs, "/")
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(out, "/") {
		out = "/" + out
	}
	return out
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// unreserved reports whether c is an RFC 3986 §2.3 unreserved character.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// Origin is the scheme and host of u (lower case, default port dropped),
// the key under which a client remembers a server's nonce.
func Origin(u *url.URL) string {
	htu := TargetURI(u)
	if htu == "" {
		return ""
	}
	host := strings.Index(htu, "://") + 3 // offsets in htu itself: lower-casing may change lengths
	return htu[:host+strings.Index(htu[host:], "/")]
}

// ValidNonce reports whether s is a nonce RFC 9449 §8.1 allows:
// 1*NQCHAR (printable ASCII but '"' and '\'), at most 512 bytes here.
func ValidNonce(s string) bool {
	return s != "" && len(s) <= 512 && !strings.Contains(s, " ") && printable(s)
}

// token reports whether s is an RFC 9110 token (an HTTP method).
func token(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// printable reports whether s is printable ASCII without '"' and '\\', so
// that it can stand in a JSON string as it is.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
