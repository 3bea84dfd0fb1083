package otelauth_test

import (
	"context"
	"fmt"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/otelauth"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	obs, err := otelauth.New(otelauth.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	// In a service: base.NewTransport(a, base.WithHook(obs.Hook)).
	obs.Hook(base.Event{Kind: base.EventFetched, Duration: 40 * time.Millisecond})
	obs.Hook(base.Event{Kind: base.EventCacheHit})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(m.Name, m.Unit)
	}
	// Output:
	// authorizer.token.requests {request}
	// authorizer.token.request.duration s
	// authorizer.token.cache.hits {hit}
}
