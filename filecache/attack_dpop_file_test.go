package filecache

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Local users and files against the dpop_key of a cache record.

// storeTwo stores DPoP tokens under two keys and returns their files.
func storeTwo(t *testing.T, c *Cache) (keyA, keyB string, kA, kB *dpop.Key) {
	t.Helper()
	ctx := context.Background()
	keyA, keyB = Key("http://issuer", "client-a", nil), Key("http://issuer", "client-b", nil)
	tokA, kA := dpopToken(t)
	tokB, kB := dpopToken(t)
	require.NoError(t, c.Store(ctx, keyA, tokA))
	require.NoError(t, c.Store(ctx, keyB, tokB))
	return keyA, keyB, kA, kB
}

// Encrypted: the whole sealed record of B put into A's file, or A's file
// with one sealed byte flipped, is a miss: the key is bound to its record
// and its cache key (AES-GCM additional data), never used for A.
func TestAttackDPoPSealedRecordSwapped(t *testing.T) {
	c, _ := newTestCache(t, WithEncryptionKey(testKey32()))
	keyA, keyB, _, kB := storeTwo(t, c)
	rawB, err := os.ReadFile(c.path(keyB))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.path(keyA), rawB, 0o600))
	got, err := c.Load(context.Background(), keyA)
	require.NoError(t, err)
	if got != nil {
		t.Fatalf("B's sealed record loaded for A, bound to %v (B is %v)", dpop.KeyOf(got), kB)
	}
	var env envelope
	require.NoError(t, json.Unmarshal(rawB, &env))
	env.Sealed[len(env.Sealed)/2] ^= 1
	b, _ := json.Marshal(env)
	require.NoError(t, os.WriteFile(c.path(keyB), b, 0o600))
	got, err = c.Load(context.Background(), keyB)
	require.NoError(t, err)
	assert.Nil(t, got, "a tampered sealed record is a miss")
}

// Plain: a dpop_key copied from B's record into A's loads (a plain file has
// no integrity; whoever can write it can also read every key in it). The
// result is A's refresh token with B's key: a server that binds refresh
// tokens (RFC 9449 §5) refuses it, so the swap gains nothing. Documented
// here so that a change in this behaviour is seen.
func TestAttackDPoPPlainKeySwapped(t *testing.T) {
	c, _ := newTestCache(t)
	keyA, keyB, kA, kB := storeTwo(t, c)
	var envA, envB envelope
	rawA, _ := os.ReadFile(c.path(keyA))
	rawB, _ := os.ReadFile(c.path(keyB))
	require.NoError(t, json.Unmarshal(rawA, &envA))
	require.NoError(t, json.Unmarshal(rawB, &envB))
	envA.Record.DPoPKey = envB.Record.DPoPKey
	b, _ := json.Marshal(envA)
	require.NoError(t, os.WriteFile(c.path(keyA), b, 0o600))
	got, err := c.Load(context.Background(), keyA)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, dpop.KeyOf(got).Equal(kB), "plain: the swapped key is what loads")
	assert.False(t, dpop.KeyOf(got).Equal(kA))
}

// dpop_key values that parse as PKCS #8 but are no DPoP key (RSA, P-384),
// that are huge, not base64, or another JSON type: a miss or a clean
// error, never a panic, never the key's bytes in a log line.
func TestAttackDPoPBadKeyField(t *testing.T) {
	rsaK, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaK)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(ed)
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, field string
		loads       bool
	}{
		{"RSA PKCS8", `"` + b64(rsaDER) + `"`, false},
		{"P-384 PKCS8", `"` + b64(p384DER) + `"`, false},
		{"Ed25519 PKCS8", `"` + b64(edDER) + `"`, true},
		{"huge", `"` + strings.Repeat("A", 900_000) + `"`, false},
		{"over the file cap", `"` + strings.Repeat("A", 1<<20) + `"`, false},
		{"not base64", `"!!!"`, false},
		{"a number", `7`, false},
		{"an object", `{"d":"x"}`, false},
		{"null", `null`, true},
		{"empty", `""`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := newTestCache(t)
			key := Key("http://issuer", "client", nil)
			rec := `{"version":1,"format":"plain","record":{"key":` + jsonString(key) +
				`,"access_token":"a","token_type":"DPoP","refresh_token":"r","dpop_key":` + tc.field + `}}`
			require.NoError(t, os.WriteFile(c.path(key), []byte(rec), 0o600))
			var got any
			assert.NotPanics(t, func() {
				tok, err := c.Load(context.Background(), key)
				if err == nil && tok != nil {
					got = tok
				}
			})
			if tc.loads != (got != nil) {
				t.Errorf("loaded: %v; want %v", got != nil, tc.loads)
			}
			if len(tc.field) > 20 && strings.Contains(logs.String(), tc.field[1:20]) {
				t.Error("the log quotes the key field")
			}
		})
	}
}
