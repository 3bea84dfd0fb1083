#!/usr/bin/env bash
# Start redis-server in the background on 127.0.0.1:$PORT (default 6410),
# installing Debian's redis-server package first when it is missing.
# Persistence is off (no RDB snapshots on a schedule, no AOF); the dump
# test calls SAVE itself and finds dump.rdb in $DIR. Env: PORT, PIDFILE,
# LOGFILE, DIR (working directory for dump.rdb; default a new temporary
# directory).
set -euo pipefail
cd "$(dirname "$0")"
PORT="${PORT:-6410}"
PIDFILE="${PIDFILE:-$PWD/server.pid}"
LOGFILE="${LOGFILE:-$PWD/server.log}"
DIR="${DIR:-$(mktemp -d "${TMPDIR:-/tmp}/redis-peer.XXXXXX")}"

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "already running, pid $(cat "$PIDFILE")"; exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p "$DIR"
# exec: the recorded pid is redis-server itself, not a wrapper shell
(exec redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
  --daemonize no --protected-mode yes --logfile "") >"$LOGFILE" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 1 100); do
  if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
    echo "redis-server up: 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), dir $DIR)"; exit 0
  fi
  kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
  sleep 0.1
done
echo "redis-server failed to start; log:" >&2; cat "$LOGFILE" >&2
kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; exit 1
