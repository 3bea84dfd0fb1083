package verify

import (
	"errors"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// TestAttackCognitoShortPool: a well-formed pool id shorter than the
// region is an InvalidConfigError, not a slice-bounds panic.
func TestAttackCognitoShortPool(t *testing.T) {
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("New panicked: %v", p)
		}
	}()
	for _, pool := range []string{"eu-w-1_a", "us-east-1_a", "eu-central-2_abc"} {
		_, err := New(nil, Expect{}, Cognito("eu-central-1", pool, "access", "client"))
		var ice *authorizer.InvalidConfigError
		if !errors.As(err, &ice) {
			t.Fatalf("pool %q: got %v; want *InvalidConfigError", pool, err)
		}
	}
}
