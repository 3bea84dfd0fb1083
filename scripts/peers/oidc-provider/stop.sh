#!/usr/bin/env bash
# Stop the oidc-provider whose pid start.sh recorded in $PIDFILE (default
# server.pid, relative to this script's folder): SIGTERM, then SIGKILL after 5 s.
set -euo pipefail
cd "$(dirname "$0")"
PIDFILE="${PIDFILE:-server.pid}"
[ -f "$PIDFILE" ] || { echo "oidc-provider not running (no $PIDFILE)"; exit 0; }
pid="$(cat "$PIDFILE")"
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"; echo "oidc-provider stopped, pid $pid"
