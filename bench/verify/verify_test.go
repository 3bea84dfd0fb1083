package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var testFixture = func() *fixture {
	fx, err := newFixture()
	if err != nil {
		panic(err)
	}
	return fx
}()

// Every case must do the whole job, or the comparison is unfair: each one
// accepts the benchmark token and refuses a wrong audience, a wrong
// issuer, an expired token, a token without exp and a bad signature (the
// floor checks only the signature).
func TestCasesDoTheWholeJob(t *testing.T) {
	now := time.Now()
	bad := map[string]map[string]any{
		"wrong audience": claimsAt(now, benchIssuer, "other-api", now.Add(time.Hour)),
		"wrong issuer":   claimsAt(now, "https://evil.test", benchAudience, now.Add(time.Hour)),
		"expired":        claimsAt(now.Add(-2*time.Hour), benchIssuer, benchAudience, now.Add(-time.Hour)),
		"no exp":         without(claimsAt(now, benchIssuer, benchAudience, now), "exp"),
	}
	tampered := testFixture.token[:len(testFixture.token)-4] + "AAAA"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := c.make(testFixture)
			if err != nil {
				t.Fatal(err)
			}
			if err := f(testFixture.token); err != nil {
				t.Fatalf("refuses the good token: %v", err)
			}
			if f(tampered) == nil {
				t.Error("accepts a bad signature")
			}
			if c.name == cases[0].name {
				return
			}
			for name, claims := range bad {
				tok, err := testFixture.sign(claims)
				if err != nil {
					t.Fatal(err)
				}
				if f(tok) == nil {
					t.Errorf("accepts a token with %s", name)
				}
			}
		})
	}
}

func without(m map[string]any, k string) map[string]any { delete(m, k); return m }

// The runner prints one row per case, the floor's ratio 1.00.
func TestTable(t *testing.T) {
	rs, err := measure(testFixture, 1, time.Millisecond, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	writeTable(&b, rs)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2+len(cases) {
		t.Fatalf("table has %d lines; want %d:\n%s", len(lines), 2+len(cases), b.String())
	}
	if !strings.HasPrefix(lines[2], "| crypto/rsa floor |") || strings.Count(lines[2], "| 1.00 |") != 2 {
		t.Errorf("first row is not the floor at 1.00: %s", lines[2])
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, c := range cases {
		f, err := c.make(testFixture)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, sequential(f, testFixture.token))
		b.Run(c.name+"/parallel", parallel(f, testFixture.token))
	}
}
