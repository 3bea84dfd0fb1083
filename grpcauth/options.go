package grpcauth

import (
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
)

// Option configures [PerRPC] and [FromTransport].
type Option func(*clientConfig)

type clientConfig struct {
	baseOpts  []base.Option
	loopback  bool // plaintext allowed to a loopback authority
	plaintext bool // plaintext allowed to any authority
	retry     bool // a unary call refused with a current token is sent once more
	err       error
}

func newClientConfig(opts []Option) clientConfig {
	var c clientConfig
	for _, o := range opts {
		if o == nil {
			c.fail("grpcauth: Option", "is nil")
			continue
		}
		o(&c)
	}
	return c
}

func (c *clientConfig) fail(setting, problem string) {
	if c.err == nil {
		c.err = &authorizer.InvalidConfigError{Setting: setting, Problem: problem}
	}
}

// WithTransportOptions passes opts to the [base.Transport] that [PerRPC]
// creates (refresh ahead, backoff, API key, logger, cache...). Valid with
// PerRPC only: [FromTransport] reports it as an
// [*authorizer.InvalidConfigError], since its Transport is already built.
func WithTransportOptions(opts ...base.Option) Option {
	return func(c *clientConfig) { c.baseOpts = append(c.baseOpts, opts...) }
}

// WithUnaryRetry lets the client interceptor send a unary call once more,
// with a new token, when the server answered codes.Unauthenticated to a
// token that was still current. Off by default: enable it for calls that
// are safe to repeat. Streams are never replayed.
func WithUnaryRetry() Option {
	return func(c *clientConfig) { c.retry = true }
}

// InsecureLoopback allows tokens over a connection without transport
// security (insecure.NewCredentials) when the call's authority is this
// machine ("localhost" or a loopback IP) and its connection goes to a
// loopback IP or a Unix socket (an authority set by grpc.WithAuthority does not make a
// remote peer local), for tests and sidecars; any
// other plaintext call fails with codes.Unauthenticated and
// [authorizer.ErrInsecureTransport], and sends nothing. Without it (the
// default) RequireTransportSecurity is true and grpc refuses to dial
// without TLS.
func InsecureLoopback() Option {
	return func(c *clientConfig) { c.loopback = true }
}

// InsecureAllowPlaintext sends tokens over connections without transport
// security to any host. Anyone on the path can read and replay them: use
// it only behind a trusted network layer (a service mesh's mTLS).
func InsecureAllowPlaintext() Option {
	return func(c *clientConfig) { c.plaintext = true }
}
