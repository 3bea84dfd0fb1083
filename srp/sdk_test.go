package srp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKClientWire checks the default Cognito client over HTTP: unsigned
// (anonymous) InitiateAuth with the right X-Amz-Target and body, sent
// through WithHTTPClient, and no SDK retries: a 500 is one request and a
// Temporary error (base.Transport does the backing off).
func TestSDKClientWire(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		if got, want := r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.InitiateAuth"; got != want {
			t.Errorf("X-Amz-Target = %q; want %q", got, want)
		}
		if got := r.Header.Get("Authorization"); got != "" {
			t.Errorf("Authorization = %q; want none (anonymous)", got)
		}
		if !strings.Contains(string(body), `"AuthFlow":"USER_SRP_AUTH"`) || !strings.Contains(string(body), `"SRP_A"`) {
			t.Errorf("body = %s", body)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalErrorException","message":"boom"}`)
	}))
	defer srv.Close()

	var viaClient atomic.Bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		viaClient.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	env := testEnv
	env.Endpoint = srv.URL
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: testClientID}, data.UserCredentials{UserName: "alice", Password: alicePass}, env, srp.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.StatusCode)
	assert.Equal(t, "InternalErrorException", ae.Code)
	assert.True(t, ae.Temporary())
	assert.Equal(t, int32(1), requests.Load(), "the SDK must not retry")
	assert.True(t, viaClient.Load(), "WithHTTPClient is used")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
