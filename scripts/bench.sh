#!/usr/bin/env bash
# The hot-path benchmark of base.Transport against x/oauth2's Transport over
# ReuseTokenSource, in one run, reported by benchstat as ratios.
# Env: COUNT (runs per benchmark, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run='^$' -bench='RoundTrip' -benchmem -count="${COUNT:-10}" ./base | tee "$out" | grep -E '^Benchmark' || true
bs=$(go env GOPATH)/bin/benchstat
[ -x "$bs" ] || go install golang.org/x/perf/cmd/benchstat@latest
echo
"$bs" -col /impl "$out"
