package grpcauth

import (
	"context"
	"errors"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// dpopAuthorizer issues tokenAuthorizer's tokens as DPoP tokens bound to key.
type dpopAuthorizer struct {
	*tokenAuthorizer
	key *dpop.Key
}

func (a dpopAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	tok, err := a.tokenAuthorizer.Authorize(ctx)
	if err != nil {
		return nil, err
	}
	tok.TokenType = dpop.TokenType
	return dpop.Bind(tok, a.key), nil
}

func (a dpopAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// A DPoP-bound token is never sent over gRPC: every call fails with
// FailedPrecondition and a message saying why, the server sees no call,
// and the token is not retired (one token request for every call).
func TestDPoPTokenRefused(t *testing.T) {
	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	srvTLS, cliTLS := testTLS(t)
	h := &healthServer{}
	addr := startServer(t, h, srvTLS)
	inner := &tokenAuthorizer{}
	creds, err := PerRPC(dpopAuthorizer{tokenAuthorizer: inner, key: key})
	require.NoError(t, err)
	t.Cleanup(func() { creds.Close() })
	c := dial(t, addr, credentials.NewTLS(cliTLS), creds)
	for range 3 {
		err := check(context.Background(), c)
		st, ok := status.FromError(err)
		require.True(t, ok, "a status error: %v", err)
		assert.Equal(t, codes.FailedPrecondition, st.Code())
		assert.Contains(t, st.Message(), "DPoP-bound")
		assert.Contains(t, st.Message(), "HTTP method and URL")
	}
	assert.Empty(t, h.seenIDs())
	assert.EqualValues(t, 1, inner.calls.Load())

	// The seam itself: a typed error wrapping errors.ErrUnsupported.
	tr, err := base.New(dpopAuthorizer{tokenAuthorizer: &tokenAuthorizer{}, key: key})
	require.NoError(t, err)
	defer tr.Close()
	_, err = tr.Credential(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.True(t, errors.Is(err, errors.ErrUnsupported))
	assert.Equal(t, codes.FailedPrecondition, Code(err))
}
