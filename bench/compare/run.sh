#!/usr/bin/env bash
# Runs the side-by-side comparison (this SDK, x/oauth2, cloud.google.com/go/auth),
# prints the table, and writes results.md and results.csv next to this script
# (a -quick run writes them under quick/ instead, leaving the full results alone).
#
#   bench/compare/run.sh                 # full run, about 2.5 minutes on 2 cores
#   bench/compare/run.sh -quick          # smoke run, under a minute
#   bench/compare/run.sh -scenarios 2,5  # some scenarios only
set -euo pipefail
cd "$(dirname "$0")"
out=.
for arg in "$@"; do
	case "$arg" in -quick | --quick | -quick=true | --quick=true) out=quick ;; esac
done
exec go run . -out "$out" "$@"
