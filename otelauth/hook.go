package otelauth

import (
	"context"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Hook records e; pass it to base.WithHook. It returns quickly: metric
// updates and, for token requests and cache hits, one span.
func (o *Observer) Hook(e base.Event) {
	ctx := context.Background()
	switch e.Kind {
	case base.EventFetched, base.EventRefreshed, base.EventFailed:
		attrs := o.requestAttrs(e)
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		o.requests.Add(ctx, 1, set)
		o.duration.Record(ctx, e.Duration.Seconds(), set)
		o.span(ctx, spanName(e.Kind), e, attrs)
	case base.EventCacheHit:
		attrs := append(o.base(), KeyBackground.Bool(e.Background))
		o.hits.Add(ctx, 1, metric.WithAttributes(attrs...))
		o.span(ctx, "authorizer.token.cache_hit", e, attrs)
	case base.EventBackoff:
		attrs := o.base()
		if e.Err != nil {
			attrs = append(attrs, KeyErrorType.String(errorType(e.Err)))
		}
		set := metric.WithAttributes(attrs...)
		o.backoffs.Add(ctx, 1, set)
		if !e.Until.IsZero() {
			o.backoffD.Record(ctx, max(e.Until.Sub(o.now()), 0).Seconds(), set)
		}
	case base.EventInvalidated:
		o.invalid.Add(ctx, 1, metric.WithAttributes(o.base()...))
	}
}

func (o *Observer) base() []attribute.KeyValue {
	return append(make([]attribute.KeyValue, 0, len(o.attrs)+4), o.attrs...)
}

// requestAttrs describes a token request's event.
func (o *Observer) requestAttrs(e base.Event) []attribute.KeyValue {
	attrs := append(o.base(), KeyBackground.Bool(e.Background))
	switch e.Kind {
	case base.EventFetched:
		attrs = append(attrs, KeyKind.String("authorize"), KeyOutcome.String("success"))
	case base.EventRefreshed:
		attrs = append(attrs, KeyKind.String("refresh"), KeyOutcome.String("success"))
	default:
		attrs = append(attrs, KeyOutcome.String("failure"), KeyErrorType.String(errorType(e.Err)))
	}
	return attrs
}

func spanName(k base.EventKind) string {
	switch k {
	case base.EventFetched:
		return "authorizer.token.authorize"
	case base.EventRefreshed:
		return "authorizer.token.refresh"
	}
	return "authorizer.token.request"
}

// span records one finished operation, from its real start to now.
func (o *Observer) span(ctx context.Context, name string, e base.Event, attrs []attribute.KeyValue) {
	end := o.now()
	_, sp := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(end.Add(-e.Duration)), trace.WithAttributes(attrs...))
	if e.Err != nil {
		sp.RecordError(e.Err, trace.WithTimestamp(end))
		sp.SetStatus(codes.Error, e.Err.Error())
	}
	if !e.Expiry.IsZero() {
		sp.SetAttributes(attribute.Int64("authorizer.token.expires_in", int64(e.Expiry.Sub(end)/time.Second)))
	}
	sp.End(trace.WithTimestamp(end))
}
