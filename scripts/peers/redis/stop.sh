#!/usr/bin/env bash
# Stop the redis-server whose pid start.sh recorded (SIGCONT in case a test
# paused it, SIGTERM, then SIGKILL after 5 s).
set -euo pipefail
cd "$(dirname "$0")"
PIDFILE="${PIDFILE:-$PWD/server.pid}"
[ -f "$PIDFILE" ] || { echo "not running (no $PIDFILE)"; exit 0; }
pid="$(cat "$PIDFILE")"
kill -CONT "$pid" 2>/dev/null || true
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"; echo "stopped pid $pid"
