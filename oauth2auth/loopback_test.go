package oauth2auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func getNoKeepAlive(t *testing.T, target string) (int, string) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(target)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func callback(s *loopbackServer, q url.Values) string { return s.redirectURI + "?" + q.Encode() }

func TestLoopbackAcceptsMatchingState(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := startLoopback("the-state", "https://issuer", defaultLanding, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(s.redirectURI, "http://127.0.0.1:"))
	assert.True(t, strings.HasSuffix(s.redirectURI, callbackPath))

	status, body := getNoKeepAlive(t, callback(s, url.Values{"state": {"forged"}, "code": {"evil"}}))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "wrong state")

	status, body = getNoKeepAlive(t, callback(s, url.Values{"state": {"the-state"}, "code": {"good"}, "iss": {"https://issuer"}}))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "You are signed in")

	status, _ = getNoKeepAlive(t, callback(s, url.Values{"state": {"the-state"}, "code": {"again"}}))
	assert.Equal(t, http.StatusConflict, status, "one shot")

	code, err := s.wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "good", code)
	s.close()
}

func TestLoopbackRefusesOtherHosts(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := startLoopback("st", "", defaultLanding, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer s.close()
	req, err := http.NewRequest(http.MethodGet, callback(s, url.Values{"state": {"st"}, "code": {"c"}}), nil)
	require.NoError(t, err)
	req.Host = "evil.example:80"
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	select {
	case <-s.result:
		t.Fatal("a callback for another host was accepted")
	default:
	}
}

func TestLoopbackRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		q        url.Values
		wantCode string
	}{
		{name: "server error", q: url.Values{"error": {"access_denied"}, "error_description": {"user cancelled"}}, wantCode: "access_denied"},
		{name: "other issuer (RFC 9207)", q: url.Values{"code": {"c"}, "iss": {"https://evil"}}, wantCode: "invalid_issuer"},
		{name: "no code", q: url.Values{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			s, err := startLoopback("st", "https://issuer", defaultLanding, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			defer s.close()
			tc.q.Set("state", "st")
			status, body := getNoKeepAlive(t, callback(s, tc.q))
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, body, "Sign-in failed")
			_, err = s.wait(context.Background())
			var ae *authorizer.AuthorizationError
			require.True(t, errors.As(err, &ae), "typed: %v", err)
			assert.Equal(t, tc.wantCode, ae.Code)
		})
	}
}

func TestLoopbackWaitHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := startLoopback("st", "", defaultLanding, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = s.wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s.close()
	_, err = http.Get(s.redirectURI)
	require.Error(t, err, "the server is gone after close")
}

func TestLoopbackCloseWithOpenConnection(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := startLoopback("st", "", defaultLanding, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	// A browser keeps its connection open after the landing page.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(callback(s, url.Values{"state": {"st"}, "code": {"c"}}))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	s.close()
	assert.Less(t, time.Since(start), shutdownGrace+time.Second)
	tr.CloseIdleConnections()
}
