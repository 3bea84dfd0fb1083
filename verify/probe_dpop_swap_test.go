package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// RFC 9449 §11.4 (signed JWT swapping): a proof is never accepted as an
// access token, nor an access token as a proof. (break-dpop-docs review)
func TestProbeDPoPSignedJWTSwapping(t *testing.T) {
	dpFixtures(t)
	c := newClock()
	v := newDPoPVerifier(t, c)
	tok := boundToken(dpKey.Thumbprint())
	proof := mustProof(t, dpKey, "GET", dpTarget, tok, "", c.Now())
	if _, err := v.Verify(context.Background(), proof); err == nil {
		t.Error("a proof accepted as a bearer token")
	}
	if _, err := v.VerifyDPoP(context.Background(), proof, proof, "GET", dpTarget); err == nil {
		t.Error("a proof accepted as a DPoP access token")
	}
	if _, err := v.VerifyDPoP(context.Background(), tok, tok, "GET", dpTarget); !errors.Is(err, authorizer.ErrTokenDPoPProof) {
		t.Errorf("the access token as its own proof: %v", err)
	}
}

// The nonce secret never shows through slog or JSON either.
func TestProbeDPoPNonceSecretNotLogged(t *testing.T) {
	dpFixtures(t)
	secret := []byte("nonce-secret-0123456789abcdefghijklmnop")
	v := newDPoPVerifier(t, newClock(), WithDPoPNonces(secret, time.Minute))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("v", "verifier", v)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("v", "verifier", v)
	js, _ := json.Marshal(v) //lint:ignore SA9005 marshalling a Verifier on purpose: it must show no secret
	if strings.Contains(buf.String()+string(js), "nonce-secret") {
		t.Errorf("nonce secret printed: %s %s", buf.String(), js)
	}
}
