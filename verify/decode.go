package verify

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Decode reads the claims JSON into v with encoding/json, for the claims
// without a field (a permission service's "permissions", Cognito's
// "cognito:groups"). It is safe for concurrent use; what it stores in v
// shares nothing with c.
//
// When v points to a struct without an UnmarshalJSON method, none of whose
// fields can take a registered claim (iss, sub, aud, exp, nbf, iat, jti,
// scope, scp, client_id, azp, token_use, cnf), Decode gives encoding/json only
// the other members: the same result for about a third less time;
// otherwise the whole claims.
func (c *Claims) Decode(v any) error {
	if c.nOthers >= 0 && takesNoRegistered(reflect.TypeOf(v)) {
		return json.Unmarshal(c.othersJSON(), v)
	}
	// encoding/json only reads its input and copies what it keeps
	// (strings, json.RawMessage), so the claims need no copy.
	return json.Unmarshal(stringBytes(c.raw), v)
}

// keepOther records a member that is not a registered claim.
func (c *Claims) keepOther(member string) {
	if c.nOthers < 0 {
		return
	}
	if c.nOthers == maxOthers {
		c.nOthers = -1
		return
	}
	c.others[c.nOthers] = member
	c.nOthers++
}

// othersJSON is the object of the non-registered members.
func (c *Claims) othersJSON() []byte {
	n := 2
	for _, m := range c.others[:c.nOthers] {
		n += len(m) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, m := range c.others[:c.nOthers] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, '}')
}

// registeredClaims are the members parseClaims reads into fields.
var registeredClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "client_id", "azp", "token_use", "cnf"}

// reducible caches takesNoRegistered per type.
var reducible sync.Map // reflect.Type → bool

// takesNoRegistered reports whether t is a pointer to a struct with no
// field encoding/json could fill from a registered claim: no field whose
// JSON name matches one (encoding/json matches names case-insensitively),
// no embedded field (whose fields are promoted), and no UnmarshalJSON
// method.
func takesNoRegistered(t reflect.Type) bool {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return false
	}
	if ok, found := reducible.Load(t); found {
		return ok.(bool)
	}
	// A type that unmarshals itself may read any member.
	ok := !t.Implements(reflect.TypeFor[json.Unmarshaler]())
	st := t.Elem()
	for i := range st.NumField() {
		f := st.Field(i)
		if f.Anonymous {
			ok = false
			break
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" && f.Tag.Get("json") == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		for _, r := range registeredClaims {
			if strings.EqualFold(name, r) {
				ok = false
			}
		}
	}
	reducible.Store(t, ok)
	return ok
}
