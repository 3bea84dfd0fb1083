package authorizer_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{name: "empty", in: "", want: 0},
		{name: "seconds", in: "120", want: 2 * time.Minute},
		{name: "spaces around", in: "  7 ", want: 7 * time.Second},
		{name: "zero", in: "0", want: 0},
		{name: "negative", in: "-5", want: 0},
		{name: "plus sign", in: "+5", want: 0},
		{name: "fraction", in: "1.5", want: 0},
		{name: "trailing garbage", in: "10s", want: 0},
		{name: "over a day", in: "172800", want: authorizer.MaxRetryAfter},
		{name: "beyond int64", in: "99999999999999999999999", want: authorizer.MaxRetryAfter},
		{name: "HTTP date", in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "RFC 850 date", in: now.Add(time.Hour).Format(time.RFC850), want: time.Hour},
		{name: "asctime date", in: now.Add(time.Minute).Format(time.ANSIC), want: time.Minute},
		{name: "date in the past", in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "date far ahead", in: now.AddDate(1, 0, 0).Format(http.TimeFormat), want: authorizer.MaxRetryAfter},
		{name: "garbage", in: "soon", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, authorizer.ParseRetryAfter(tt.in, now))
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", " 3 "} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := authorizer.ParseRetryAfter(v, now)
		if d < 0 || d > authorizer.MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, authorizer.MaxRetryAfter)
		}
	})
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.Header{"Retry-After": {"30"}}
	fmt.Println(authorizer.ParseRetryAfter(h.Get("Retry-After"), now))
	fmt.Println(authorizer.ParseRetryAfter("Fri, 02 Jan 2026 03:06:05 GMT", now))
	// Output:
	// 30s
	// 2m0s
}
