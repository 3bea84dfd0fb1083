package srptest_test

import (
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	"github.com/seed-d44eba79/authorizer/srp/internal/srptest"
	"github.com/stretchr/testify/require"
)

const (
	poolID   = "eu-west-1_TestPool9"
	poolName = "TestPool9"
)

// TestVerifierAgreesWithCognitoSRP checks the test-side verifier against an
// independent client, github.com/alexrudd/cognito-srp v4.1.0, at hours where
// that client's 12-hour TIMESTAMP is still right (01:00-12:59 UTC).
func TestVerifierAgreesWithCognitoSRP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		at       time.Time
		password string
		ok       bool
	}{
		{"morning", time.Date(2026, 3, 4, 9, 41, 7, 0, time.UTC), "Corr3ct-horse!", true},
		{"noon", time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), "Corr3ct-horse!", true},
		{"wrong password", time.Date(2026, 3, 4, 9, 41, 7, 0, time.UTC), "Wr0ng-horse!", false},
		// Documents the helper's bug: at 14:xx it signs "02:xx".
		{"afternoon: cognito-srp signs a 12-hour time", time.Date(2026, 3, 4, 14, 5, 0, 0, time.UTC), "Corr3ct-horse!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := srptest.NewVerifier(poolName, "alice", "Corr3ct-horse!")
			c, err := cognitosrp.NewCognitoSRP("alice", tc.password, poolID, "client", nil)
			require.NoError(t, err)
			x, err := v.Begin(c.GetAuthParams()["SRP_A"])
			require.NoError(t, err)
			answer, err := c.PasswordVerifierChallenge(x.Params(), tc.at)
			require.NoError(t, err)
			err = x.Verify(answer, tc.at)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Date(2026, 3, 4, 23, 5, 9, 0, time.UTC)
	for _, tc := range []struct {
		name, ts string
		ok       bool
	}{
		{"exact", "Wed Mar 4 23:05:09 UTC 2026", true},
		{"zero-padded day", "Wed Mar 04 23:05:09 UTC 2026", false},
		{"12-hour clock", "Wed Mar 4 11:05:09 UTC 2026", false},
		{"wrong weekday", "Thu Mar 4 23:05:09 UTC 2026", false},
		{"other zone name", "Wed Mar 4 23:05:09 GMT 2026", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := srptest.CheckTimestamp(tc.ts, now)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
