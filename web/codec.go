package web

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
)

// A session is what a signed-in browser holds. It is immutable once made:
// a refresh makes a new one with the same id.
type session struct {
	id      string    // random, names the session in the store and in refreshes
	created time.Time // sign-in; the session ends SessionLifetime later
	expiry  time.Time // the access token's
	issued  time.Time // when the access token was obtained
	idToken string
	access  string
	refresh string

	claims idClaims // read from idToken's payload, not encoded
	stored []byte   // store mode: the sealed value the store holds for it, not encoded
}

// idClaims are the ID token claims the middleware itself uses.
type idClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	SessionID string   `json:"sid"`
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Audience  audience `json:"aud"`
}

// audience is the aud claim, a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

const sessionVersion = 2 // 2: created in microseconds (a logout ends the sessions created at or before it)

// codecDict primes the compressor with what JWT headers and OpenID claims
// usually hold, so the first token compresses like the second. Part of
// the format: changing it needs a new sessionVersion.
var codecDict = []byte(`{"alg":"RS256","typ":"JWT","kid":"` +
	`{"exp":,"iat":,"auth_time":,"jti":"","iss":"https://","aud":"","sub":"","typ":"Bearer","azp":"","sid":"",` +
	`"scope":"openid email profile offline_access","email_verified":true,"name":"","preferred_username":"",` +
	`"given_name":"","family_name":"","email":"","nonce":"","at_hash":"","acr":"1","amr":["pwd"],"client_id":"",` +
	`"groups":["","realm_access":{"roles":["offline_access","uma_authorization","default-roles-"]},"resource_access":{"account":{"roles":["manage-account","view-profile"]}}`)

// maxSessionPlain bounds the inflated size of a session.
const maxSessionPlain = 256 << 10

// encode writes s compactly: times as varints, each token as binary when it
// is a JWT or a base64url string, the whole deflated.
func (s *session) encode() []byte {
	var b []byte
	b = append(b, sessionVersion)
	b = appendString(b, s.id)
	b = binary.AppendVarint(b, s.created.UnixMicro())
	b = binary.AppendVarint(b, s.expiry.Unix())
	b = binary.AppendVarint(b, s.issued.Unix())
	for _, t := range []string{s.idToken, s.access, s.refresh} {
		b = appendToken(b, t)
	}
	var out bytes.Buffer
	w, _ := flate.NewWriterDict(&out, flate.BestCompression, codecDict)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Token forms.
const (
	tokenText   = 0 // as is
	tokenB64    = 1 // one base64url string, decoded
	tokenJWT    = 2 // three base64url segments, decoded
	maxSegments = 5 // JWE has five
)

func appendToken(b []byte, t string) []byte {
	parts := strings.Split(t, ".")
	decoded := make([][]byte, 0, len(parts))
	for _, p := range parts {
		d, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || base64.RawURLEncoding.EncodeToString(d) != p || len(parts) > maxSegments {
			return appendString(append(b, tokenText), t)
		}
		decoded = append(decoded, d)
	}
	if len(parts) == 1 {
		return appendString(append(b, tokenB64), string(decoded[0]))
	}
	b = append(b, tokenJWT, byte(len(parts)))
	for _, d := range decoded {
		b = appendString(b, string(d))
	}
	return b
}

var errBadSession = errors.New("web: malformed session")

// decodeSession reverses encode; anything malformed is errBadSession.
func decodeSession(z []byte) (*session, error) {
	raw, err := io.ReadAll(io.LimitReader(flate.NewReaderDict(bytes.NewReader(z), codecDict), maxSessionPlain+1))
	if err != nil || len(raw) > maxSessionPlain || len(raw) == 0 || raw[0] != sessionVersion {
		return nil, errBadSession
	}
	r := &reader{b: raw[1:]}
	s := &session{id: r.string()}
	s.created = time.UnixMicro(r.varint())
	s.expiry = time.Unix(r.varint(), 0)
	s.issued = time.Unix(r.varint(), 0)
	s.idToken, s.access, s.refresh = r.token(), r.token(), r.token()
	if r.bad || len(r.b) != 0 || s.id == "" {
		return nil, errBadSession
	}
	if err := s.readClaims(); err != nil {
		return nil, errBadSession
	}
	return s, nil
}

// readClaims reads the (already verified) ID token's payload.
func (s *session) readClaims() error {
	parts := strings.Split(s.idToken, ".")
	if len(parts) != 3 {
		return errBadSession
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, &s.claims)
}

type reader struct {
	b   []byte
	bad bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad = true
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) token() string {
	if len(r.b) == 0 {
		r.bad = true
		return ""
	}
	form := r.b[0]
	r.b = r.b[1:]
	switch form {
	case tokenText:
		return r.string()
	case tokenB64:
		return base64.RawURLEncoding.EncodeToString(r.bytes())
	case tokenJWT:
		return r.jwt()
	}
	r.bad = true
	return ""
}

func (r *reader) jwt() string {
	if len(r.b) == 0 || r.b[0] < 2 || r.b[0] > maxSegments {
		r.bad = true
		return ""
	}
	n := int(r.b[0])
	r.b = r.b[1:]
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(base64.RawURLEncoding.EncodeToString(r.bytes()))
	}
	return sb.String()
}
