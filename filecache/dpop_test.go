package filecache

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func dpopToken(t *testing.T) (*oauth2.Token, *dpop.Key) {
	t.Helper()
	k, err := dpop.GenerateKey()
	require.NoError(t, err)
	tok := testToken()
	tok.TokenType = "DPoP"
	return dpop.Bind(tok, k), k
}

// A DPoP-bound token comes back bound to its key, plain and encrypted;
// encrypted, the key is inside the sealed record, not in the file.
func TestRoundTripDPoPKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{name: "plain"},
		{name: "aes-gcm", opts: []Option{WithEncryptionKey(testKey32())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestCache(t, tc.opts...)
			ctx := context.Background()
			key := Key("http://issuer", "client", []string{"openid"})
			tok, k := dpopToken(t)
			require.NoError(t, c.Store(ctx, key, tok))
			got, err := c.Load(ctx, key)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, "DPoP", got.TokenType)
			assert.Equal(t, testRefresh, got.RefreshToken)
			assert.Equal(t, testID, got.Extra("id_token"))
			require.NotNil(t, dpop.KeyOf(got), "the key is restored")
			assert.True(t, dpop.KeyOf(got).Equal(k))
			p, err := dpop.KeyOf(got).Proof("POST", mustParse(t, "https://idp.example/token"), "", "", testToken().Expiry)
			require.NoError(t, err, "the restored key signs")
			assert.NotEmpty(t, p)

			raw, err := os.ReadFile(c.path(key))
			require.NoError(t, err)
			assert.Equal(t, tc.name == "plain", strings.Contains(string(raw), `"dpop_key"`),
				"dpop_key is in the plain record, and only inside the sealed one when encrypted")
		})
	}
}

// A file written before DPoP (no dpop_key) loads as a token without a key.
func TestOldRecordWithoutDPoPKey(t *testing.T) {
	c, _ := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	old := `{"version":1,"format":"plain","record":{"key":` + jsonString(key) +
		`,"access_token":"a","token_type":"Bearer","refresh_token":"r"}}`
	require.NoError(t, os.WriteFile(c.path(key), []byte(old), 0o600))
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Nil(t, dpop.KeyOf(got))
	assert.Equal(t, "r", got.RefreshToken)
}

// A dpop_key that does not parse makes the file unusable (a miss, logged
// without the key).
func TestBadDPoPKeyIsAMiss(t *testing.T) {
	c, logs := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	bad := `{"version":1,"format":"plain","record":{"key":` + jsonString(key) +
		`,"access_token":"a","token_type":"DPoP","refresh_token":"r","dpop_key":"U0VDUkVULW5vdC1hLWtleQ=="}}`
	require.NoError(t, os.WriteFile(c.path(key), []byte(bad), 0o600))
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Contains(t, logs.String(), "DPoP key")
	assert.NotContains(t, logs.String(), "U0VDUkVU")
}

// hardwareSigner is a crypto.Signer that is not an exportable key.
type hardwareSigner struct{ k *ecdsa.PrivateKey }

func (h hardwareSigner) Public() crypto.PublicKey { return h.k.Public() }
func (h hardwareSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return h.k.Sign(r, d, o)
}

// A key that cannot be exported is not written: the record holds a DPoP
// token without a key.
func TestUnexportableDPoPKeyNotWritten(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	k, err := dpop.NewKey(hardwareSigner{priv})
	require.NoError(t, err)
	tok := testToken()
	tok.TokenType = "DPoP"
	c, _ := newTestCache(t)
	key := Key("http://issuer", "client", nil)
	require.NoError(t, c.Store(context.Background(), key, dpop.Bind(tok, k)))
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "DPoP", got.TokenType)
	assert.Nil(t, dpop.KeyOf(got), "no key: the authorizers treat it as a miss")
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
