package grpcauth

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/oauth"
)

// benchCtx is a call's context over TLS, as grpc gives GetRequestMetadata.
func benchCtx() context.Context {
	ri := credentials.RequestInfo{Method: "/pkg.S/M",
		AuthInfo: credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}}
	return credentials.NewContextWithRequestInfo(context.Background(), ri)
}

// BenchmarkGetRequestMetadata: the per-RPC cost with a valid token, this
// package beside grpc's oauth.TokenSource over oauth2.ReuseTokenSource.
func BenchmarkGetRequestMetadata(b *testing.B) {
	ctx := benchCtx()
	const uri = "https://api.example.test/pkg.S"
	b.Run("grpcauth", func(b *testing.B) {
		c, err := PerRPC(&tokenAuthorizer{})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.GetRequestMetadata(ctx, uri); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetRequestMetadata(ctx, uri); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oauth.TokenSource", func(b *testing.B) {
		tok, _ := (&tokenAuthorizer{}).Authorize(ctx)
		ts := oauth.TokenSource{TokenSource: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok))}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.GetRequestMetadata(ctx, uri); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpcauth/parallel", func(b *testing.B) {
		c, _ := PerRPC(&tokenAuthorizer{valid: time.Hour})
		defer c.Close()
		_, _ = c.GetRequestMetadata(ctx, uri)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = c.GetRequestMetadata(ctx, uri)
			}
		})
	})
	b.Run("oauth.TokenSource/parallel", func(b *testing.B) {
		tok, _ := (&tokenAuthorizer{}).Authorize(ctx)
		ts := oauth.TokenSource{TokenSource: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok))}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = ts.GetRequestMetadata(ctx, uri)
			}
		})
	})
}
