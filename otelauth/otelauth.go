// Package otelauth turns the lifecycle events of a base.Transport into
// OpenTelemetry metrics and spans: token requests by kind and outcome and
// their duration, cache hits, backoffs, and tokens refused by a resource
// server (401, then replayed with a new token).
//
//	obs, err := otelauth.New() // the global MeterProvider and TracerProvider
//	...
//	t := base.NewTransport(a, base.WithHook(obs.Hook))
//
// # Metrics
//
//	authorizer.token.requests          counter   {request}  token requests made
//	authorizer.token.request.duration  histogram s          their duration
//	authorizer.token.cache.hits        counter   {hit}      tokens read from a TokenCache instead
//	authorizer.token.backoffs          counter   {backoff}  pauses after a failed token request
//	authorizer.token.backoff.duration  histogram s          how long each pause lasts
//	authorizer.token.invalidations     counter   {token}    tokens refused by a resource server (401)
//
// Attributes: authorizer.token.kind ("authorize" or "refresh", on
// successful requests), authorizer.token.outcome ("success" or "failure"),
// error.type (the Go type of the error, on failures),
// authorizer.token.background (a refresh ahead of expiry, which no request
// waits on), and those given with [WithAttributes]. Nothing that names a
// token or a secret is ever an attribute.
//
// # Spans
//
// Each token request is a client span, "authorizer.token.authorize",
// "authorizer.token.refresh" or, when it failed, "authorizer.token.request"
// with status Error and the error recorded; a token read from the cache is
// "authorizer.token.cache_hit". Spans carry the request's real start and
// end times, and a successful one its token's authorizer.token.expires_in
// (seconds). Events carry no context, so the spans are roots of their own
// traces.
package otelauth

import (
	"fmt"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/seed-d44eba79/authorizer/otelauth"

// Attribute keys.
const (
	KeyKind       = attribute.Key("authorizer.token.kind")
	KeyOutcome    = attribute.Key("authorizer.token.outcome")
	KeyBackground = attribute.Key("authorizer.token.background")
	KeyErrorType  = attribute.Key("error.type")
)

// durationBuckets are the histogram bounds in seconds, those the semantic
// conventions give HTTP client durations.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Observer records a Transport's events. Create it with [New]; pass
// [Observer.Hook] to base.WithHook. One Observer may serve many
// Transports. It is safe for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	attrs    []attribute.KeyValue
	now      func() time.Time
	requests metric.Int64Counter
	duration metric.Float64Histogram
	hits     metric.Int64Counter
	backoffs metric.Int64Counter
	backoffD metric.Float64Histogram
	invalid  metric.Int64Counter
}

// Option configures an Observer.
type Option func(*config)

type config struct {
	mp    metric.MeterProvider
	tp    trace.TracerProvider
	attrs []attribute.KeyValue
	now   func() time.Time
}

// WithMeterProvider sets where metrics go. Optional; nil (the default)
// means otel.GetMeterProvider() at New.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithTracerProvider sets where spans go. Optional; nil (the default)
// means otel.GetTracerProvider() at New.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithAttributes adds attributes to every metric and span, e.g. the
// provider or the client's name. Optional; none by default. Never pass a
// secret.
func WithAttributes(kv ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, kv...) }
}

// New returns an Observer. It fails only when an option is nil or the
// MeterProvider refuses an instrument; the error is an
// [*authorizer.InvalidConfigError].
func New(opts ...Option) (*Observer, error) {
	c := config{now: time.Now}
	for _, o := range opts {
		if o == nil {
			return nil, &authorizer.InvalidConfigError{Setting: "otelauth: New option", Problem: "is nil"}
		}
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	o := &Observer{tracer: c.tp.Tracer(ScopeName), attrs: c.attrs, now: c.now}
	if err := o.instruments(c.mp.Meter(ScopeName)); err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "otelauth: WithMeterProvider",
			Problem: "refused an instrument: " + err.Error()}
	}
	return o, nil
}

func (o *Observer) instruments(m metric.Meter) (err error) {
	try := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	o.requests, e = m.Int64Counter("authorizer.token.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Token requests made to the authorization server."))
	try(e)
	o.duration, e = m.Float64Histogram("authorizer.token.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of token requests."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	try(e)
	o.hits, e = m.Int64Counter("authorizer.token.cache.hits", metric.WithUnit("{hit}"),
		metric.WithDescription("Tokens read from a shared TokenCache instead of requested."))
	try(e)
	o.backoffs, e = m.Int64Counter("authorizer.token.backoffs", metric.WithUnit("{backoff}"),
		metric.WithDescription("Pauses of token requests after a failure."))
	try(e)
	o.backoffD, e = m.Float64Histogram("authorizer.token.backoff.duration", metric.WithUnit("s"),
		metric.WithDescription("Length of each pause after a failed token request."),
		metric.WithExplicitBucketBoundaries(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
	try(e)
	o.invalid, e = m.Int64Counter("authorizer.token.invalidations", metric.WithUnit("{token}"),
		metric.WithDescription("Tokens refused by a resource server (401); the request is replayed with a new token."))
	try(e)
	return err
}

// errorType is the error.type of err: its Go type, low in cardinality.
func errorType(err error) string { return fmt.Sprintf("%T", err) }
