package verify_test

// Proofs against moto_server as a Cognito user pool (scripts/peers/moto),
// seeded by seed.py into the file AUTHORIZER_COGNITO_SEED names. Skipped
// without it; failing under AUTHORIZER_REQUIRE_PEERS=1.

import (
	"context"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A user signed in through srp: the access token passes the Cognito rules
// by client_id and token_use, the ID token by aud, both from the pool's
// JWKS URL; each is refused by the other's rules and by another client.
func TestIntegrationCognito(t *testing.T) {
	s := peertest.Cognito(t, "AUTHORIZER_COGNITO_SEED")
	for _, name := range []string{"sdk-public", "sdk-confidential"} {
		t.Run(name, func(t *testing.T) {
			client := s.Clients[name]
			access, id := cognitoSignIn(t, s, client)
			counter := newPeerCounter()
			defer counter.CloseIdleConnections()
			env := srp.Environment{Region: s.Region, UserPoolID: s.UserPoolID, Endpoint: s.Endpoint}
			assert.Equal(t, s.JWKSURL, env.JWKSURL(), "srp.Environment gives the pool's JWKS URL")
			assert.Equal(t, s.Issuer, env.Issuer(), "srp.Environment gives the pool's issuer")
			keys := verify.JWKS(env.JWKSURL(), verify.WithHTTPClient(counter.client()))
			defer keys.Close()
			forUse := func(use string, clients ...string) *verify.Verifier {
				v, err := verify.New(keys, verify.Expect{}, verify.Cognito(s.Region, s.UserPoolID, use, clients...))
				require.NoError(t, err)
				return v
			}
			ctx := context.Background()

			c, err := forUse("access", "some-other-client", client.ClientID).Verify(ctx, access)
			require.NoError(t, err)
			assert.Equal(t, s.Issuer, c.Issuer)
			assert.Equal(t, "access", c.TokenUse)
			assert.Equal(t, client.ClientID, c.ClientID)
			assert.Empty(t, c.Audience, "Cognito access tokens have no aud")
			assert.Equal(t, s.Users["alice"].Sub, c.Subject)
			assert.True(t, c.Expiry.After(time.Now()))
			var ac struct {
				Username string `json:"username"`
			}
			require.NoError(t, c.Decode(&ac))
			assert.Equal(t, "alice", ac.Username)

			c, err = forUse("id", client.ClientID).Verify(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, "id", c.TokenUse)
			assert.Equal(t, []string{client.ClientID}, c.Audience)
			var ic struct {
				Username string `json:"cognito:username"`
			}
			require.NoError(t, c.Decode(&ic))
			assert.Equal(t, "alice", ic.Username)

			_, err = forUse("id", client.ClientID).Verify(ctx, access)
			assert.ErrorIs(t, err, authorizer.ErrTokenUse, "an access token passes as an ID token")
			_, err = forUse("access", client.ClientID).Verify(ctx, id)
			assert.ErrorIs(t, err, authorizer.ErrTokenUse, "an ID token passes as an access token")
			_, err = forUse("access", "another-client").Verify(ctx, access)
			assert.ErrorIs(t, err, authorizer.ErrTokenAudience, "another client's access token passes")
			_, err = forUse("id", "another-client").Verify(ctx, id)
			assert.ErrorIs(t, err, authorizer.ErrTokenAudience, "another client's ID token passes")

			assert.Equal(t, 1, counter.count("/.well-known/jwks.json"), "five Verifiers, one key source, one fetch")
		})
	}
}

// cognitoSignIn signs alice in through srp and returns her access and ID
// tokens.
func cognitoSignIn(t *testing.T, s peertest.CognitoSeed, c peertest.CognitoSeedClient) (access, id string) {
	t.Helper()
	env := srp.Environment{Name: "moto", Region: s.Region, UserPoolID: s.UserPoolID, Endpoint: s.Endpoint}
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: c.ClientID, ClientSecret: c.ClientSecret},
		data.UserCredentials{UserName: "alice", Password: s.Users["alice"].Password}, env)
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	id, _ = tok.Extra("id_token").(string)
	require.NotEmpty(t, id, "srp keeps the ID token in Extra")
	return tok.AccessToken, id
}
