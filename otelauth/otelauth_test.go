package otelauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	obs    *Observer
}

func newRecorder(t *testing.T, opts ...Option) *recorder {
	t.Helper()
	r := &recorder{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(r.spans))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	obs, err := New(append([]Option{WithMeterProvider(mp), WithTracerProvider(tp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.obs = obs
	return r
}

// sums returns each counter's points as "name{attrs}" -> value.
func (r *recorder) collect(t *testing.T) (sums map[string]int64, hists map[string]metricdata.HistogramDataPoint[float64]) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums, hists = map[string]int64{}, map[string]metricdata.HistogramDataPoint[float64]{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q; want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sums[m.Name+attrString(p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					hists[m.Name+attrString(p.Attributes)] = p
				}
			}
		}
	}
	return sums, hists
}

func attrString(s attribute.Set) string {
	var b strings.Builder
	b.WriteString("{")
	for i, kv := range s.ToSlice() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(string(kv.Key) + "=" + kv.Value.String())
	}
	return b.String() + "}"
}

func TestHookRecordsEachEvent(t *testing.T) {
	r := newRecorder(t, WithAttributes(attribute.String("authorizer.provider", "test")))
	now := time.Unix(1_700_000_000, 0)
	r.obs.now = func() time.Time { return now }
	failure := &authorizer.AuthorizationError{Message: "base: token request failed"}
	for _, e := range []base.Event{
		{Kind: base.EventFetched, Duration: 30 * time.Millisecond, Expiry: now.Add(time.Hour)},
		{Kind: base.EventRefreshed, Duration: 20 * time.Millisecond, Background: true, Expiry: now.Add(time.Hour)},
		{Kind: base.EventFailed, Duration: 2 * time.Second, Err: failure, Attempt: 1},
		{Kind: base.EventBackoff, Until: now.Add(3 * time.Second), Err: failure, Attempt: 1},
		{Kind: base.EventCacheHit, Expiry: now.Add(time.Hour)},
		{Kind: base.EventInvalidated},
	} {
		r.obs.Hook(e)
	}
	sums, hists := r.collect(t)
	p := "authorizer.provider=test,"
	want := map[string]int64{
		"authorizer.token.requests{" + p + "authorizer.token.background=false,authorizer.token.kind=authorize,authorizer.token.outcome=success}":           1,
		"authorizer.token.requests{" + p + "authorizer.token.background=true,authorizer.token.kind=refresh,authorizer.token.outcome=success}":              1,
		"authorizer.token.requests{" + p + "authorizer.token.background=false,authorizer.token.outcome=failure,error.type=*authorizer.AuthorizationError}": 1,
		"authorizer.token.backoffs{" + p + "error.type=*authorizer.AuthorizationError}":                                                                    1,
		"authorizer.token.cache.hits{" + p + "authorizer.token.background=false}":                                                                          1,
		"authorizer.token.invalidations{authorizer.provider=test}":                                                                                         1,
	}
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("%s = %d; want %d", k, sums[k], v)
		}
	}
	if len(sums) != len(want) {
		t.Errorf("counters = %v; want %v", sums, want)
	}
	failed := hists["authorizer.token.request.duration{"+p+"authorizer.token.background=false,authorizer.token.outcome=failure,error.type=*authorizer.AuthorizationError}"]
	if failed.Count != 1 || failed.Sum != 2 {
		t.Errorf("failed duration = %d points, sum %v; want 1, 2 s", failed.Count, failed.Sum)
	}
	if b := hists["authorizer.token.backoff.duration{"+p+"error.type=*authorizer.AuthorizationError}"]; b.Count != 1 || b.Sum != 3 {
		t.Errorf("backoff duration = %d, %v; want 1, 3 s", b.Count, b.Sum)
	}

	spans := r.spans.GetSpans()
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "authorizer.token.authorize authorizer.token.refresh authorizer.token.request authorizer.token.cache_hit" {
		t.Errorf("spans = %s", got)
	}
	first, failedSpan := spans[0], spans[2]
	if d := first.EndTime.Sub(first.StartTime); d != 30*time.Millisecond {
		t.Errorf("span lasts %v; want the request's 30ms", d)
	}
	if failedSpan.Status.Code != codes.Error || len(failedSpan.Events) != 1 {
		t.Errorf("failed span status %v, %d events; want Error and the recorded error", failedSpan.Status, len(failedSpan.Events))
	}
}

// fakeAuthorizer issues tokens, failing while fail is set.
type fakeAuthorizer struct {
	n    atomic.Int64
	fail atomic.Bool
}

func (a *fakeAuthorizer) Authorize(context.Context) (*oauth2.Token, error) {
	if a.fail.Load() {
		return nil, errors.New("the token endpoint is down")
	}
	a.n.Add(1)
	return &oauth2.Token{AccessToken: "secret-token-" + string(rune('a'+a.n.Load())), TokenType: "Bearer",
		Expiry: time.Now().Add(time.Hour)}, nil
}
func (a *fakeAuthorizer) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, time.Now()) }
func (a *fakeAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// End to end through a base.Transport: a fetch, a 401 and its replay, and
// no token in any attribute or span.
func TestTransportEvents(t *testing.T) {
	r := newRecorder(t)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 2 {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	a := &fakeAuthorizer{}
	tr := base.NewTransport(a, base.WithHook(r.obs.Hook))
	defer tr.Close()
	client := &http.Client{Transport: tr}
	for range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The Transport reports a token request after it hands the token over:
	// wait for the second event rather than race it.
	var sums map[string]int64
	var requests int64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		sums, _ = r.collect(t)
		requests = 0
		for k, v := range sums {
			if strings.HasPrefix(k, "authorizer.token.requests{") {
				requests += v
			}
		}
		if requests >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if requests != 2 {
		t.Errorf("token requests = %d; want 2 (first, after the 401): %v", requests, sums)
	}
	if n := sums["authorizer.token.invalidations{}"]; n != 1 {
		t.Errorf("invalidations = %d; want 1 (%v)", n, sums)
	}
	for _, s := range r.spans.GetSpans() {
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.String(), "secret-token") {
				t.Errorf("span %s carries a token in %s", s.Name, kv.Key)
			}
		}
	}
}
