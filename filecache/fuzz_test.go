package filecache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// FuzzDecode checks that the file parser never panics and never returns a
// token for the wrong key, with and without encryption.
func FuzzDecode(f *testing.F) {
	key := Key("http://issuer", "client", []string{"openid"})
	block, _ := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	aead, _ := cipher.NewGCM(block)
	plain, _ := encode(newRecord(key, testToken()), nil)
	sealed, _ := encode(newRecord(key, testToken()), aead)
	f.Add(plain, false)
	f.Add(sealed, true)
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
	})
}
