package data

import "time"

// Header names the authorizers set on outgoing requests.
const (
	// AuthorizationHeader carries "<type> <access token>" (RFC 6750 §2.1).
	AuthorizationHeader = "Authorization"
	// APIKeyHeader carries [ClientInfo].APIKey when it is set (API Gateway style).
	APIKeyHeader = "X-Api-Key"
)

// ExpirationGap is the margin before a token's expiry at which it counts as
// expired. A token is not used for the last ExpirationGap of its life so that
// it cannot expire in flight, between the client's check and the resource
// server's. For short-lived tokens the gap shrinks to a quarter of the
// token's lifetime (see [EffectiveGap]), so that a 5-second token is not
// "expired" at birth.
const ExpirationGap = 30 * time.Second

// [DefaultTokenLifetime] is the lifetime assumed for a token whose issuer did
// not say when it expires (no expires_in). Such a token is never treated as
// valid forever.
const DefaultTokenLifetime = 5 * time.Minute

// [EffectiveGap] returns the expiration gap for a token of the given lifetime:
// ExpirationGap, or a quarter of the lifetime when that is smaller. A lifetime
// of zero or less (unknown) gets ExpirationGap.
func EffectiveGap(lifetime time.Duration) time.Duration {
	if lifetime > 0 && lifetime/4 < ExpirationGap {
		return lifetime / 4
	}
	return ExpirationGap
}
