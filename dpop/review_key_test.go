package dpop

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Review of the Key inner pointer (5e116ca): a Key value inside a struct
// prints and marshals no private key, and a copied or zero Key behaves.
func TestReviewKeyValueHidesSecret(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d := fmt.Sprintf("%x", der[len(der)-40:]) // a tail of the PKCS#8 bytes
	type holder struct {
		K    Key
		P    *Key
		List []Key
	}
	h := holder{K: *k, P: k, List: []Key{*k}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, h)
		if strings.Contains(out, d) {
			t.Errorf("%s of a struct holding a Key shows key material: %s", verb, out)
		}
	}
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), `"d"`) || strings.Contains(string(j), d) {
		t.Errorf("json of a struct holding a Key: %s", j)
	}
	c := h.K // a copy shares the immutable parts
	if !c.Equal(k) || c.Thumbprint() != k.Thumbprint() {
		t.Error("a copied Key is not the same key")
	}
	var zero Key
	if zero.Thumbprint() != "" || zero.Equal(&zero) || zero.String() == "" {
		t.Error("a zero Key is not inert")
	}
	if _, err := zero.Proof("GET", nil, "", "", timeZero); err == nil {
		t.Error("a zero Key signed a proof")
	}
}

var timeZero time.Time
