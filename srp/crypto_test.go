package srp_test

import (
	"context"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/require"
)

// TestPasswordClaimAtEveryHour runs the project's SRP client through the
// test-side verifier (cross-checked against cognito-srp in srptest) at the
// hours where a 12-hour clock or a zero-padded day would be caught. The
// fake checks the proof and the TIMESTAMP against its own clock.
func TestPasswordClaimAtEveryHour(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"00:xx", time.Date(2026, 11, 23, 0, 17, 5, 0, time.UTC)},
		{"09:xx single-digit day", time.Date(2026, 3, 4, 9, 41, 7, 0, time.UTC)},
		{"12:xx", time.Date(2026, 11, 23, 12, 30, 59, 0, time.UTC)},
		{"13:xx", time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)},
		{"23:xx single-digit day", time.Date(2026, 2, 1, 23, 59, 59, 0, time.UTC)},
		{"local-zone clock", time.Date(2026, 7, 9, 22, 5, 0, 0, time.FixedZone("UTC+9", 9*3600))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pool("")
			a := newAuth(t, f, newClock(tc.at), "alice", alicePass)
			tok, err := a.Authorize(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, tok.AccessToken)
			ts := f.Calls()[1].Params["TIMESTAMP"]
			require.Equal(t, tc.at.UTC().Format("Mon Jan 2 15:04:05 UTC 2006"), ts)
		})
	}
}

// TestWrongPasswordFailsOnce: the verifier refuses the claim, the error is
// InvalidCredentialsError, and the password is tried exactly once.
func TestWrongPasswordFailsOnce(t *testing.T) {
	f := pool("")
	a := newAuth(t, f, newClock(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)), "alice", "Wr0ng-Passw0rd!")
	_, err := a.Authorize(context.Background())
	var ice *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &ice)
	require.Equal(t, "alice", ice.UserName)
	require.Equal(t, 1, f.Count("InitiateAuth", "USER_SRP_AUTH"))
	require.Equal(t, 1, f.Count("RespondToAuthChallenge", "PASSWORD_VERIFIER"))
}
