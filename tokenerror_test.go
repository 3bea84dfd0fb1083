package authorizer_test

import (
	"errors"
	"fmt"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

func TestInvalidTokenErrorIs(t *testing.T) {
	reasons := []struct {
		r    authorizer.TokenReason
		want error
		name string
	}{
		{authorizer.TokenMalformed, authorizer.ErrTokenMalformed, "malformed"},
		{authorizer.TokenSignature, authorizer.ErrTokenSignature, "signature"},
		{authorizer.TokenAlgorithm, authorizer.ErrTokenAlgorithm, "algorithm"},
		{authorizer.TokenUnknownKey, authorizer.ErrTokenUnknownKey, "unknown key"},
		{authorizer.TokenExpired, authorizer.ErrTokenExpired, "expired"},
		{authorizer.TokenNotYetValid, authorizer.ErrTokenNotYetValid, "not yet valid"},
		{authorizer.TokenIssuer, authorizer.ErrTokenIssuer, "issuer"},
		{authorizer.TokenAudience, authorizer.ErrTokenAudience, "audience"},
		{authorizer.TokenUse, authorizer.ErrTokenUse, "token use"},
		{authorizer.TokenScope, authorizer.ErrTokenScope, "scope"},
		{authorizer.TokenDPoPProof, authorizer.ErrTokenDPoPProof, "DPoP proof"},
		{authorizer.TokenDPoPReplay, authorizer.ErrTokenDPoPReplay, "DPoP replay"},
		{authorizer.TokenDPoPNonce, authorizer.ErrTokenDPoPNonce, "DPoP nonce"},
		{authorizer.TokenDPoPBinding, authorizer.ErrTokenDPoPBinding, "DPoP binding"},
	}
	for _, tc := range reasons {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &authorizer.InvalidTokenError{Reason: tc.r, Detail: "d"})
			if !errors.Is(err, tc.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.want)
			}
			for _, other := range reasons {
				if other.r != tc.r && errors.Is(err, other.want) {
					t.Errorf("%v also matches %v", tc.r, other.want)
				}
			}
			if tc.r.String() != tc.name {
				t.Errorf("String() = %q; want %q", tc.r.String(), tc.name)
			}
			var ite *authorizer.InvalidTokenError
			if !errors.As(err, &ite) || ite.Temporary() {
				t.Error("not an InvalidTokenError, or temporary")
			}
		})
	}
	if authorizer.TokenReason(0).Sentinel() != nil || authorizer.TokenReason(99).String() != "unknown reason" {
		t.Error("unknown reasons")
	}
}

func TestInvalidTokenErrorUnwrapsCause(t *testing.T) {
	cause := &authorizer.AuthorizationError{StatusCode: 503, Message: "verify: fetching keys failed"}
	err := &authorizer.InvalidTokenError{Reason: authorizer.TokenUnknownKey, Detail: "no key has the token's kid", Err: cause}
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) || !ae.Temporary() {
		t.Error("cause not reachable")
	}
	if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Error("reason lost with a cause")
	}
	if !err.Temporary() {
		t.Error("a temporary key-source failure does not make it temporary")
	}
	cause.StatusCode = 404
	if err.Temporary() {
		t.Error("a permanent cause makes it temporary")
	}
	cause.StatusCode = 503
	want := "authorizer: invalid token (unknown key): no key has the token's kid: verify: fetching keys failed (status 503)"
	if err.Error() != want {
		t.Errorf("Error() = %q; want %q", err.Error(), want)
	}
}
