#!/usr/bin/env bash
# Runs the side-by-side comparison (this SDK, x/oauth2, cloud.google.com/go/auth),
# prints the table, and writes results.md and results.csv next to this script and
# the README's comparison section into README.md (between its bench/compare
# markers). A -quick run writes all
# three under quick/ instead, leaving the committed results alone.
#
#   bench/compare/run.sh                 # full run, about 5 minutes on 2 cores
#   bench/compare/run.sh -quick          # smoke run, about 1 minute
#   bench/compare/run.sh -scenarios 2,5  # some scenarios only (no README section)
set -euo pipefail
cd "$(dirname "$0")"
out=. readme=../../README.md
for arg in "$@"; do
	case "$arg" in
	-quick | --quick | -quick=true | --quick=true) out=quick readme=quick/readme.md ;;
	-scenarios* | --scenarios*) readme= ;;
	esac
done
exec go run . -out "$out" ${readme:+-readme "$readme"} "$@"
