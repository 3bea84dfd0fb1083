package srp

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// lostConnRetryer makes one more attempt, at once, when the connection died
// under a call: net.ErrClosed or ECONNRESET while the answer was read, the
// transient that aws-sdk-go-v2's own retryer retries by default
// (aws-sdk-go-v2 #2737). Nothing else is retried: not a refusal (a readable
// error answer), not a timeout, not an unreachable service; [base.Transport]
// backs those off. A lost answer is not a refused password, so Cognito's
// lockout counter is not what this repeats, and it repeats at most once.
type lostConnRetryer struct{}

var _ aws.Retryer = lostConnRetryer{}

func (lostConnRetryer) IsErrorRetryable(err error) bool { return lostConnection(err) }
func (lostConnRetryer) MaxAttempts() int                { return 2 }

func (lostConnRetryer) RetryDelay(int, error) (time.Duration, error) { return 0, nil }

func (lostConnRetryer) GetRetryToken(context.Context, error) (func(error) error, error) {
	return noRelease, nil
}

func (lostConnRetryer) GetInitialToken() func(error) error { return noRelease }

func noRelease(error) error { return nil }

// lostConnection reports whether err is a connection that died under a
// call.
func lostConnection(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET)
}
