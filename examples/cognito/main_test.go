package main

import (
	"testing"

	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainNamesTheMissingSetting: an empty client id points at -client
// and COGNITO_CLIENT_ID, not at COGNITO_PASSWORD.
func TestExplainNamesTheMissingSetting(t *testing.T) {
	t.Setenv("COGNITO_PASSWORD", "Alice-Passw0rd!")
	env := srp.Environment{Region: "us-east-1", UserPoolID: "us-east-1_Abc"}
	for _, tc := range []struct {
		name, clientID, user, want string
	}{
		{name: "no client id", user: "alice", want: "set -client or COGNITO_CLIENT_ID"},
		{name: "no user", clientID: "c", want: "set -user or COGNITO_USERNAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newAuthorizer(env, tc.clientID, tc.user, false)
			require.Error(t, err)
			msg := explain(err)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, "COGNITO_PASSWORD")
		})
	}
	t.Setenv("COGNITO_PASSWORD", "")
	_, err := newAuthorizer(env, "c", "alice", false)
	require.Error(t, err)
	assert.Contains(t, explain(err), "set COGNITO_PASSWORD")
}
