package srp

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validParams() map[string]string {
	return map[string]string{
		"USER_ID_FOR_SRP": "alice",
		"USERNAME":        "alice",
		"SALT":            "0a1b2c3d4e5f",
		"SRP_B":           "8f3a9c",
		"SECRET_BLOCK":    base64.StdEncoding.EncodeToString([]byte("block")),
	}
}

func TestParseVerifierChallenge(t *testing.T) {
	with := func(k, v string) map[string]string {
		p := validParams()
		if v == "<delete>" {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		params map[string]string
		param  string // the parameter the error names; "" when valid
	}{
		{"valid", validParams(), ""},
		{"USERNAME defaults to USER_ID_FOR_SRP", with("USERNAME", "<delete>"), ""},
		{"missing user id", with("USER_ID_FOR_SRP", "<delete>"), "USER_ID_FOR_SRP"},
		{"SRP_B missing", with("SRP_B", ""), "SRP_B"},
		{"SRP_B not hex", with("SRP_B", "zz"), "SRP_B"},
		{"SRP_B with sign", with("SRP_B", "-ff"), "SRP_B"},
		{"SRP_B with prefix", with("SRP_B", "0x1f"), "SRP_B"},
		{"SRP_B zero", with("SRP_B", "0"), "SRP_B"},
		{"SRP_B equals N", with("SRP_B", groupNHex), "SRP_B"},
		{"SRP_B huge", with("SRP_B", strings.Repeat("f", 5000)), "SRP_B"},
		{"empty salt", with("SALT", ""), "SALT"},
		{"salt not hex", with("SALT", "salt"), "SALT"},
		{"secret block missing", with("SECRET_BLOCK", "<delete>"), "SECRET_BLOCK"},
		{"secret block a dashed UUID (plain moto)", with("SECRET_BLOCK", "1fd5a423-706c-4c2e-9a0a-3a0c5d1f6e7b"), "SECRET_BLOCK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseVerifierChallenge(tc.params)
			if tc.param == "" {
				require.NoError(t, err)
				assert.Equal(t, "alice", c.userName)
				assert.Equal(t, []byte("block"), c.secretBlock)
				return
			}
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.True(t, strings.HasPrefix(ae.Description, tc.param+" "), "description %q names %s", ae.Description, tc.param)
			assert.False(t, ae.Temporary())
		})
	}
}

// FuzzParseVerifierChallenge: whatever the server sends, parsing and the
// key derivation never panic, and an accepted B is never 0 mod N.
func FuzzParseVerifierChallenge(f *testing.F) {
	p := validParams()
	f.Add(p["USER_ID_FOR_SRP"], p["SALT"], p["SRP_B"], p["SECRET_BLOCK"])
	f.Add("u", "", "0", "")
	f.Add("u", "00", groupNHex, "AAAA")
	f.Add("u", "-1", "+ff", "====")
	sess, err := newClientSession(strings.NewReader(strings.Repeat("k", 128)))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, user, salt, b, block string) {
		c, err := parseVerifierChallenge(map[string]string{"USER_ID_FOR_SRP": user, "SALT": salt, "SRP_B": b, "SECRET_BLOCK": block})
		if err != nil {
			var ae *authorizer.AuthorizationError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if c.bigB.Sign() <= 0 || c.salt.Sign() < 0 {
			t.Fatalf("accepted B=%v salt=%v", c.bigB, c.salt)
		}
		if _, err := sess.passwordKey("pool", c.userID, "pw", c.bigB, c.salt); err != nil {
			t.Logf("key: %v", err)
		}
	})
}

// FuzzUsernameClaim: any string in, no panic.
func FuzzUsernameClaim(f *testing.F) {
	f.Add("a.eyJ1c2VybmFtZSI6ImFsaWNlIiwidG9rZW5fdXNlIjoiYWNjZXNzIn0.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) { _ = usernameClaim(tok) })
}

func TestUsernameClaim(t *testing.T) {
	assert.Equal(t, "alice", usernameClaim("a.eyJ1c2VybmFtZSI6ImFsaWNlIiwidG9rZW5fdXNlIjoiYWNjZXNzIn0.c"))
	assert.Equal(t, "", usernameClaim("a.eyJ1c2VybmFtZSI6ImFsaWNlIiwidG9rZW5fdXNlIjoiaWQifQ.c"), "an ID token is not used")
	assert.Equal(t, "", usernameClaim("opaque"))
}

func TestFormatTimestamp(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 0, 5, 6, 0, time.UTC), "Wed Mar 4 00:05:06 UTC 2026"},
		{time.Date(2026, 3, 4, 13, 5, 6, 0, time.UTC), "Wed Mar 4 13:05:06 UTC 2026"},
		{time.Date(2026, 11, 23, 23, 59, 59, 999, time.UTC), "Mon Nov 23 23:59:59 UTC 2026"},
		{time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), "Thu Jan 1 00:00:00 UTC 2026"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, formatTimestamp(tc.at))
		})
	}
}

func TestSecretHashMatchesCognitoSRP(t *testing.T) {
	secret := "88bd6407-2bcf-4e01-a28d-efe39bf00273"
	c, err := cognitosrp.NewCognitoSRP("alice", "pw", "us-east-1_abc", "client", &secret)
	require.NoError(t, err)
	want, err := c.GetSecretHash("alice")
	require.NoError(t, err)
	assert.Equal(t, want, secretHash(secret, "alice", "client"))
}

func TestGroupConstants(t *testing.T) {
	assert.Equal(t, 3072, srpGroup.n.BitLen())
	// k as Amplify / cognito-srp compute it.
	assert.Equal(t, "37772559067617796309459009502931177628717927509759535181635788491848250400486", srpGroup.k.String())
}

func TestNewClientSessionShortRandom(t *testing.T) {
	_, err := newClientSession(strings.NewReader("short"))
	require.Error(t, err)
	_, err = newClientSession(strings.NewReader(strings.Repeat("\x00", 128)))
	require.Error(t, err, "a = 0 is refused")
}
