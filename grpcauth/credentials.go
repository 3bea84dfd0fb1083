package grpcauth

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Metadata keys the credentials send.
const (
	authorizationKey = "authorization"
	apiKeyKey        = "x-api-key"
)

// Credentials are per-RPC credentials that send the token of a
// [base.Transport]. They are safe for concurrent use by any number of
// calls. Create them with [PerRPC] or [FromTransport].
type Credentials struct {
	t     *base.Transport
	owned bool // PerRPC created t; Close closes it
	cfg   clientConfig
	// md is the metadata of the last token sent, shared by every call
	// with that token.
	md atomic.Pointer[sentMD]
}

// sentMD is the metadata map of one token, immutable once published.
type sentMD struct {
	auth string
	md   map[string]string
}

var _ grpccreds.PerRPCCredentials = (*Credentials)(nil)

// PerRPC returns credentials backed by a new [base.Transport] for a
// (configured by [WithTransportOptions]), or an
// [*authorizer.InvalidConfigError] naming what cannot be used. Close them
// when done.
func PerRPC(a base.Authorizer, opts ...Option) (*Credentials, error) {
	cfg := newClientConfig(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	t, err := base.New(a, cfg.baseOpts...)
	if err != nil {
		return nil, err
	}
	return &Credentials{t: t, owned: true, cfg: cfg}, nil
}

// FromTransport returns credentials that send t's token, so that HTTP
// requests through t and gRPC calls share one token and one lifecycle. t
// stays the caller's: [Credentials.Close] does not close it.
func FromTransport(t *base.Transport, opts ...Option) (*Credentials, error) {
	cfg := newClientConfig(opts)
	switch {
	case cfg.err != nil:
		return nil, cfg.err
	case t == nil:
		return nil, &authorizer.InvalidConfigError{Setting: "grpcauth: Transport", Problem: "is nil"}
	case cfg.baseOpts != nil:
		return nil, &authorizer.InvalidConfigError{Setting: "grpcauth.WithTransportOptions",
			Problem: "applies to PerRPC only; configure the Transport given to FromTransport"}
	}
	return &Credentials{t: t, cfg: cfg}, nil
}

// Close closes the Transport that [PerRPC] created (calls then fail with
// codes.Canceled); for [FromTransport] it does nothing. It returns nil.
func (c *Credentials) Close() error {
	if c.owned {
		return c.t.Close()
	}
	return nil
}

// RequireTransportSecurity implements [grpccreds.PerRPCCredentials]: true
// unless [InsecureLoopback] or [InsecureAllowPlaintext] was given.
func (c *Credentials) RequireTransportSecurity() bool {
	return !c.cfg.loopback && !c.cfg.plaintext
}

// GetRequestMetadata implements [grpccreds.PerRPCCredentials]: the
// "authorization" (and "x-api-key") metadata of the current token, waiting
// for one at most until ctx is done. A failure is a gRPC status error
// whose code is [Code] of the SDK error.
//
// The returned map is shared by every call with the same token (grpc
// copies it into each call's headers): callers must not modify it.
func (c *Credentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	if err := c.checkSecurity(ctx, uri); err != nil {
		return nil, clientStatus(err)
	}
	if ch := chosenBy(ctx, c); ch != nil {
		if !ch.sent.Load() {
			ch.sent.Store(true)
		}
		return c.metadata(ch.cred), nil
	}
	cred, err := c.t.Credential(ctx)
	if err != nil {
		return nil, clientStatus(err)
	}
	return c.metadata(cred), nil
}

// metadata returns the shared map for cred, building it on a new token.
func (c *Credentials) metadata(cred base.Credential) map[string]string {
	auth := cred.Authorization()
	if s := c.md.Load(); s != nil && s.auth == auth {
		return s.md
	}
	md := map[string]string{authorizationKey: auth}
	if k := cred.APIKey(); k != "" {
		md[apiKeyKey] = k
	}
	c.md.Store(&sentMD{auth: auth, md: md})
	return md
}

// checkSecurity refuses a connection below privacy and integrity unless
// an Insecure… option allows it for the call's authority.
func (c *Credentials) checkSecurity(ctx context.Context, uri []string) error {
	ri, _ := grpccreds.RequestInfoFromContext(ctx)
	if c.cfg.plaintext || grpccreds.CheckSecurityLevel(ri.AuthInfo, grpccreds.PrivacyAndIntegrity) == nil {
		return nil
	}
	if c.cfg.loopback && len(uri) > 0 && loopbackPeer(ctx) {
		if u, err := url.Parse(uri[0]); err == nil && endpoint.IsLoopback(u.Hostname()) {
			return nil
		}
	}
	return authorizer.ErrInsecureTransport
}

// loopbackPeer reports whether the call's connection, when ctx names one
// (grpc does for every call), goes to a loopback IP or a Unix socket: the authority alone
// is the caller's word (grpc.WithAuthority, a resolver's ServerName) and
// may name "localhost" for a remote peer. A ctx without a peer (a direct
// call, outside grpc) leaves the decision to the authority.
func loopbackPeer(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return true
	}
	if _, unix := p.Addr.(*net.UnixAddr); unix {
		return true // a Unix socket is on this machine
	}
	ap, err := netip.ParseAddrPort(p.Addr.String())
	return err == nil && endpoint.IsLoopback(ap.Addr().String())
}

// credKey is the context key of the base.Credential the client
// interceptor chose for a call, so that the token sent is the token it
// retires on Unauthenticated.
type credKey struct{}

// chosen is the value at credKey: owner's interceptor chose cred, and
// sent is set once GetRequestMetadata attached it, so that an
// Unauthenticated answer that GetRequestMetadata itself produced (no TLS,
// say) never retires a good token.
type chosen struct {
	owner *Credentials
	cred  base.Credential
	sent  atomic.Bool
	// peer is filled by grpc (the grpc.Peer call option) once the call
	// had a transport stream: a call that failed before one (another
	// per-RPC credential failing, whatever its error) leaves Addr nil.
	peer peer.Peer
}

// withChosen returns ctx carrying cred, chosen by c's interceptor.
func (c *Credentials) withChosen(ctx context.Context, cred base.Credential) (context.Context, *chosen) {
	ch := &chosen{owner: c, cred: cred}
	return context.WithValue(ctx, credKey{}, ch), ch
}

// chosenBy returns what c's interceptor chose for the call of ctx; the
// interceptor of other Credentials does not count.
func chosenBy(ctx context.Context, c *Credentials) *chosen {
	ch, _ := ctx.Value(credKey{}).(*chosen)
	if ch == nil || ch.owner != c {
		return nil
	}
	return ch
}

// answered reports the server's answer err about the call: it retires or
// accepts the token only when GetRequestMetadata sent it. It returns true
// when the server refused the token.
func (ch *chosen) answered(err error) bool {
	return ch.sent.Load() && ch.reached() && !localCredentialsFailure(err) && refused(ch.cred, err)
}

// reached reports whether the call got a transport stream (the server may
// have seen the token), going by the peer grpc recorded for it.
func (ch *chosen) reached() bool { return ch.peer.Addr != nil }

// callOption is the grpc.Peer option that fills ch.peer.
func (ch *chosen) callOption() grpc.CallOption { return grpc.Peer(&ch.peer) }

// localCredentialsFailure reports whether err is grpc's own answer to a
// per-RPC credential (another one than ours, after ours attached the
// token) that failed before the call was sent: the server never saw the
// token, so it is neither refused nor accepted. grpc-go words these
// errors so (internal/transport, getTrAuthData); a server that sends the
// same words only keeps us from retiring a token it refuses.
func localCredentialsFailure(err error) bool {
	msg := status.Convert(err).Message()
	return strings.HasPrefix(msg, "transport: per-RPC creds failed due to error: ") ||
		strings.HasPrefix(msg, "transport: received per-RPC creds error with illegal status: ")
}
