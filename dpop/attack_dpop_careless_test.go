package dpop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// noPanic runs f and reports a panic as a test failure (not a crash), so
// that every careless call below is listed.
func noPanic(t *testing.T, name string, f func()) (panicked bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			t.Errorf("%s panicked: %v", name, r)
		}
	}()
	f()
	return false
}

// A Key zero value (var k dpop.Key) and a nil *Key are careless callers'
// keys: every method must fail cleanly, never panic.
func TestAttackDPoPZeroAndNilKey(t *testing.T) {
	u, _ := url.Parse("https://rs.test/p")
	now := time.Unix(1_800_000_000, 0)
	t.Run("zero value", func(t *testing.T) {
		var k Key
		noPanic(t, "Proof", func() {
			if _, err := k.Proof("GET", u, "tok", "", now); err == nil {
				t.Error("a zero Key signed a proof")
			}
		})
		noPanic(t, "Public", func() { _ = k.Public() })
	})
	t.Run("zero value, methods that hold", func(t *testing.T) {
		var k Key
		noPanic(t, "MarshalBinary", func() {
			if b, err := k.MarshalBinary(); err == nil {
				t.Errorf("a zero Key exported %d bytes", len(b))
			}
		})
		noPanic(t, "String", func() { _ = k.String() })
	})
	t.Run("zero values are Equal", func(t *testing.T) {
		var k Key
		if k.Equal(&Key{}) {
			t.Error("two zero Keys are Equal")
		}
	})
	t.Run("nil pointer", func(t *testing.T) {
		var k *Key
		noPanic(t, "Proof", func() { _, _ = k.Proof("GET", u, "tok", "", now) })
		noPanic(t, "Thumbprint", func() { _ = k.Thumbprint() })
		noPanic(t, "MarshalJSON", func() { _, _ = k.MarshalJSON() })
		noPanic(t, "MarshalBinary", func() { _, _ = k.MarshalBinary() })
	})
	t.Run("nil pointer, methods that hold", func(t *testing.T) {
		var k *Key
		noPanic(t, "String", func() { _ = k.String() })
		noPanic(t, "GoString", func() { _ = fmt.Sprintf("%#v", k) })
		noPanic(t, "LogValue", func() { _ = k.LogValue() })
		noPanic(t, "Equal", func() {
			if k.Equal(nil) {
				t.Error("nil Equal nil")
			}
		})
		noPanic(t, "json", func() {
			b, err := json.Marshal(struct{ K *Key }{k})
			if err != nil || string(b) != `{"K":null}` {
				t.Errorf("json = %s, %v", b, err)
			}
		})
	})
	t.Run("NewKey(nil) and a typed nil signer", func(t *testing.T) {
		noPanic(t, "NewKey(nil)", func() {
			if _, err := NewKey(nil); err == nil {
				t.Error("NewKey(nil) accepted")
			}
		})
	})
}

// Bind on a nil token, Bind with a nil key, KeyOf/IsDPoP of nil: no
// panic, and a nil key bound is no key (a keyless DPoP token, a miss).
func TestAttackDPoPBindCareless(t *testing.T) {
	noPanic(t, "Bind(nil, nil)", func() {
		if Bind(nil, nil) != nil {
			t.Error("Bind(nil) is not nil")
		}
	})
	k, _ := GenerateKey()
	noPanic(t, "Bind(nil, k)", func() { _ = Bind(nil, k) })
	noPanic(t, "KeyOf(nil)", func() { _ = KeyOf(nil) })
	noPanic(t, "IsDPoP(nil)", func() { _ = IsDPoP(nil) })
	tok := Bind(&oauth2.Token{AccessToken: "a", TokenType: "DPoP"}, nil)
	if KeyOf(tok) != nil {
		t.Error("Bind(tok, nil) yields a token with a non-nil key")
	}
	// A server's token response cannot plant a key under the Extra name.
	fake := (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{extraKey: "a string, as JSON would give"})
	if KeyOf(fake) != nil {
		t.Error("a string in Extra is taken for a key")
	}
}

// The same Key in many authorizers at once: Proof is safe for concurrent
// use, every jti differs (run with -race).
func TestAttackDPoPKeySharedConcurrently(t *testing.T) {
	k, _ := GenerateKey()
	u, _ := url.Parse("https://rs.test/p")
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				p, err := k.Proof("GET", u, "tok", "", time.Unix(1_800_000_000, 0))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Error("the same proof twice")
				}
				seen[p] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// Printing a Key, a bound token, and containers of them through every
// verb, JSON and slog shows no private key.
func TestAttackDPoPPrintNoPrivateKey(t *testing.T) {
	k, _ := GenerateKey()
	der, _ := k.MarshalBinary()
	d, err := k.ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	dec := new(big.Int).SetBytes(d).String()
	tok := Bind(&oauth2.Token{AccessToken: "at-secret", TokenType: "DPoP"}, k)
	type holder struct {
		k   *Key
		K   *Key
		Tok *oauth2.Token
	}
	h := holder{k, k, tok}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, h), fmt.Sprintf(verb, []*Key{k}),
			fmt.Sprintf(verb, map[string]*Key{"a": k}))
	}
	j, _ := json.Marshal(h)
	outs = append(outs, string(j))
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, nil))
	lg.Info("x", "key", k, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", k, "holder", h)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if bytes.Contains([]byte(o), der) || strings.Contains(o, dec) ||
			strings.Contains(o, fmt.Sprintf("%x", d)) || strings.Contains(o, fmt.Sprint(d)) {
			t.Errorf("printed output holds the private key: %.200s", o)
		}
	}
	// Printing the Key value (not the pointer) goes through no method set of
	// *Key: see that case separately.
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if o := fmt.Sprintf(verb, *k); strings.Contains(o, dec) {
			t.Errorf("%s of a dpop.Key value shows D", verb)
		}
	}
}

// Nonces is bounded however many origins a hostile resource server
// family sends nonces from; an invalid nonce (huge, quotes, control bytes)
// is never stored.
func TestAttackDPoPNoncesBounded(t *testing.T) {
	var n Nonces
	for i := 0; i < 10_000; i++ {
		n.Put("https://o"+strconv.Itoa(i)+".test", "n"+strconv.Itoa(i))
	}
	n.mu.Lock()
	if len(n.m) > maxNonces || len(n.order) > maxNonces {
		t.Errorf("Nonces holds %d/%d origins; bound %d", len(n.m), len(n.order), maxNonces)
	}
	n.mu.Unlock()
	if got := n.Get("https://o9999.test"); got != "n9999" {
		t.Errorf("newest origin's nonce %q", got)
	}
	for _, bad := range []string{strings.Repeat("a", 513), `a"b`, `a\b`, "a\x00b", "a\r\nX-Injected: 1", "a b", "é", ""} {
		n.Put("https://bad.test", bad)
		n.Observe("https://bad.test", http.Header{NonceHeader: {bad}})
		if got := n.Get("https://bad.test"); got != "" {
			t.Errorf("invalid nonce %q stored as %q", bad, got)
		}
	}
	// Repeated header: ignored, the old nonce stays.
	n.Put("https://r.test", "old")
	n.Observe("https://r.test", http.Header{NonceHeader: {"a", "b"}})
	if got := n.Get("https://r.test"); got != "old" {
		t.Errorf("two DPoP-Nonce values replaced the nonce: %q", got)
	}
	// Re-putting an origin that is already there keeps the map and order in step.
	for i := 0; i < 1000; i++ {
		n.Put("https://r.test", "x"+strconv.Itoa(i))
	}
	n.mu.Lock()
	if len(n.m) != len(n.order) {
		t.Errorf("map %d and order %d out of step", len(n.m), len(n.order))
	}
	n.mu.Unlock()
}

// A nonce can never smuggle JSON into a proof: Proof refuses what
// ValidNonce refuses, and a valid one appears verbatim as one claim.
func TestAttackDPoPNonceInjectionIntoProof(t *testing.T) {
	k, _ := GenerateKey()
	u, _ := url.Parse("https://rs.test/p")
	for _, bad := range []string{`x","htu":"https://evil.test/`, "x\\\"", "x\n", strings.Repeat("n", 513)} {
		if _, err := k.Proof("GET", u, "tok", bad, time.Now()); err == nil {
			t.Errorf("Proof signed with nonce %q", bad)
		}
	}
	// htu that carries quotes through an opaque or odd URL.
	for _, raw := range []string{`https://rs.test/a"b`, "https://rs.test/a%22b", `https://user:pw@rs.test/p`} {
		v, err := url.Parse(raw)
		if err != nil {
			continue
		}
		p, err := k.Proof("GET", v, "tok", "", time.Now())
		if err != nil {
			continue
		}
		if strings.Contains(TargetURI(v), "pw") {
			t.Errorf("htu of %q carries user info: %q", raw, TargetURI(v))
		}
		_ = p
	}
	// An HTTP method that is not a token cannot reach the JSON either.
	if _, err := k.Proof(`GET","htu":"x`, u, "", "", time.Now()); err == nil {
		t.Error("a method with quotes signed")
	}
}
