package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// metadata is the part of the provider's discovery document the middleware
// uses (OpenID Connect Discovery 1.0 §3, RFC 9207 §3, RP-Initiated Logout).
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	AuthMethods           []string `json:"token_endpoint_auth_methods_supported"`
}

// provider fetches the metadata once; a failed fetch is retried by the
// next request that needs it.
type provider struct {
	issuer string
	rule   endpoint.Rule
	fetch  func(ctx context.Context, url string) (tokenwire.Answer, error)

	mu sync.Mutex // guards md
	md *metadata
}

func (p *provider) metadata(ctx context.Context) (*metadata, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.md != nil {
		return p.md, nil
	}
	a, err := p.fetch(ctx, strings.TrimSuffix(p.issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, fmt.Errorf("web: provider discovery: %w", err)
	}
	if a.Status != 200 {
		return nil, fmt.Errorf("web: provider discovery: status %d", a.Status)
	}
	var md metadata
	if err := json.Unmarshal(a.Body, &md); err != nil {
		return nil, fmt.Errorf("web: provider discovery: %w", err)
	}
	if md.Issuer != p.issuer {
		return nil, fmt.Errorf("web: provider discovery: issuer %q is not the configured %q", md.Issuer, p.issuer)
	}
	for _, u := range []string{md.AuthorizationEndpoint, md.TokenEndpoint} {
		if endpoint.Check(u, p.rule) != endpoint.OK {
			return nil, fmt.Errorf("web: provider discovery: endpoint %q refused", u)
		}
	}
	if md.EndSessionEndpoint != "" && endpoint.Check(md.EndSessionEndpoint, p.rule) != endpoint.OK {
		md.EndSessionEndpoint = ""
	}
	p.md = &md
	return p.md, nil
}

// clientAuth picks how the client authenticates at the token endpoint.
func clientAuth(secret string, md *metadata) tokenwire.ClientAuth {
	if secret == "" {
		return tokenwire.AuthNone
	}
	if len(md.AuthMethods) > 0 && !contains(md.AuthMethods, "client_secret_basic") && contains(md.AuthMethods, "client_secret_post") {
		return tokenwire.AuthPost
	}
	return tokenwire.AuthBasic
}
