package srp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/seed-d44eba79/authorizer/srp/internal/srptest"
	"github.com/stretchr/testify/require"
)

const (
	testRegion   = "eu-west-1"
	testPoolName = "AbCdEf123"
	testPoolID   = testRegion + "_" + testPoolName
	testClientID = "client-123"
	testSecret   = "client-secret-xyz"
	alicePass    = "Alice-Passw0rd!"
)

var testEnv = srp.Environment{Name: "test", Region: testRegion, UserPoolID: testPoolID}

// clock is a settable time source shared by the fake and the Authorizer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// pool returns a fake pool with alice (alias alice@example.test), a
// disabled dave, frank who must change his password, and mallory with MFA.
func pool(secret string) *srptest.Fake {
	return srptest.NewFake(testPoolName, testClientID, secret, map[string]*srptest.User{
		"alice":   {Password: alicePass, Aliases: []string{"alice@example.test"}},
		"dave":    {Password: "Dave-Passw0rd!", Disabled: true},
		"frank":   {Password: "Frank-Temp0rary!", ForceChange: true},
		"mallory": {Password: "Mallory-Passw0rd!", MFA: "SOFTWARE_TOKEN_MFA", MFACode: "123456"},
		"carol":   {Password: "Carol-Passw0rd!", Custom: "CUSTOM_CHALLENGE"},
		"dora":    {Password: "Dora-Passw0rd!", DeviceKey: "eu-west-1_device-1"},
	})
}

// newAuth returns an Authorizer talking to f, with f and the Authorizer on
// clk.
func newAuth(t *testing.T, f *srptest.Fake, clk *clock, user, password string, opts ...srp.Option) *srp.Authorizer {
	t.Helper()
	f.Now = clk.Now
	info := data.ClientInfo{ClientID: testClientID, ClientSecret: f.ClientSecret}
	opts = append([]srp.Option{srp.WithCognitoClient(f), srp.WithClock(clk.Now)}, opts...)
	a, err := srp.NewAuthorizer(info, data.UserCredentials{UserName: user, Password: password}, testEnv, opts...)
	require.NoError(t, err)
	return a
}
