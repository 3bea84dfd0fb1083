#!/usr/bin/env bash
# Runs the side-by-side comparison (this SDK, x/oauth2, cloud.google.com/go/auth)
# and writes results.md and results.csv next to this script.
#
#   bench/compare/run.sh            # full run, about 3-4 minutes on 2 cores
#   bench/compare/run.sh -quick     # smoke run, under a minute
#   bench/compare/run.sh -scenarios 2,5
set -euo pipefail
cd "$(dirname "$0")"
exec go run . -out . "$@"
