package filecache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
)

// FuzzDecode checks that the file parser never panics and never returns a
// token for the wrong key, with and without encryption, with and without a
// DPoP key in the record.
func FuzzDecode(f *testing.F) {
	key := Key("http://issuer", "client", []string{"openid"})
	block, _ := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	aead, _ := cipher.NewGCM(block)
	plain, _ := encode(newRecord(key, testToken()), nil)
	sealed, _ := encode(newRecord(key, testToken()), aead)
	f.Add(plain, false)
	f.Add(sealed, true)
	k, _ := dpop.GenerateKey()
	bound := testToken()
	bound.TokenType = "DPoP"
	withKey, _ := encode(newRecord(key, dpop.Bind(bound, k)), nil)
	sealedKey, _ := encode(newRecord(key, dpop.Bind(bound, k)), aead)
	f.Add(withKey, false)
	f.Add(sealedKey, true)
	f.Add([]byte(`{"version":1,"format":"plain","record":{"key":"x","access_token":"a","dpop_key":"AAAA"}}`), false)
	f.Add([]byte(`{"version":1,"format":"plain","record":{"key":"x"}}`), false)
	f.Add([]byte(`{"version":1,"format":"aes-gcm","nonce":"AAAA","sealed":""}`), true)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, b []byte, encrypted bool) {
		a := cipher.AEAD(nil)
		if encrypted {
			a = aead
		}
		tok, err := decode(b, key, a)
		if err == nil && tok == nil {
			t.Fatal("nil token without error")
		}
		if err != nil && tok != nil {
			t.Fatal("token with error")
		}
		if tok != nil && dpop.KeyOf(tok) != nil {
			if _, err := dpop.KeyOf(tok).MarshalBinary(); err != nil {
				t.Fatalf("restored key does not export: %v", err)
			}
		}
	})
}
