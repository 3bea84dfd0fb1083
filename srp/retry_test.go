package srp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A connection that dies under a call (net.ErrClosed, aws-sdk-go-v2 #2737)
// is tried once more; twice lost is a temporary error; nothing else is
// retried (TestSDKClientWire: a 500 is one request).
func TestLostConnectionIsRetriedOnce(t *testing.T) {
	tests := []struct {
		name      string
		lose      int32 // attempts whose connection dies
		wantCalls int32
		check     func(t *testing.T, err error)
	}{
		{name: "lost once: the answer of the retry counts", lose: 1, wantCalls: 2, check: func(t *testing.T, err error) {
			var ice *authorizer.InvalidClientError
			require.ErrorAs(t, err, &ice)
		}},
		{name: "lost twice: temporary", lose: 2, wantCalls: 2, check: func(t *testing.T, err error) {
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.True(t, ae.Temporary())
			assert.ErrorIs(t, err, net.ErrClosed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no-such-client"}`)
			}))
			defer srv.Close()
			var calls atomic.Int32
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if calls.Add(1) <= tt.lose {
					return nil, &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
				}
				return http.DefaultTransport.RoundTrip(r)
			})}
			env := testEnv
			env.Endpoint = srv.URL
			a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: "no-such-client"},
				data.UserCredentials{UserName: "alice", Password: alicePass}, env, srp.WithHTTPClient(hc))
			require.NoError(t, err)
			_, err = a.Authorize(context.Background())
			tt.check(t, err)
			assert.Equal(t, tt.wantCalls, calls.Load(), "attempts")
		})
	}
}
