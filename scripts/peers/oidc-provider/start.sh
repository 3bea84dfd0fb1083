#!/usr/bin/env bash
# Start the local OpenID Provider in the background on 127.0.0.1:$PORT and
# return once its discovery document answers.
#
# Env (all optional):
#   PORT               listen port (default 9010); the issuer is http://127.0.0.1:$PORT
#   ACCESS_TOKEN_TTL   access-token lifetime in seconds (default 60)
#   REFRESH_TOKEN_TTL  refresh-token lifetime in seconds (default 86400)
#   DEVICE_CODE_TTL    device-code lifetime in seconds (default 600)
#   KEY_ID             kid of the signing key, which is new on every start
#                      (default peer-rs256)
#   PIDFILE, LOGFILE   default server.pid / server.log; relative paths are taken
#                      from this script's folder
# Two instances side by side (what scripts/test.sh does):
#   scripts/peers/oidc-provider/start.sh
#   PORT=9011 ACCESS_TOKEN_TTL=5 PIDFILE=short.pid LOGFILE=short.log scripts/peers/oidc-provider/start.sh
# The node modules are installed from package-lock.json (npm ci) on first use.
set -euo pipefail
cd "$(dirname "$0")"
export PORT="${PORT:-9010}"
PIDFILE="${PIDFILE:-server.pid}"
LOGFILE="${LOGFILE:-server.log}"

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "oidc-provider already running, pid $(cat "$PIDFILE")"; exit 0
fi
if [ ! -d node_modules ]; then
  # Two instances may start at once: install under a lock so npm ci runs once.
  exec 9>.npm-install.lock
  flock 9
  [ -d node_modules ] || npm ci --no-audit --no-fund >&2
  flock -u 9
fi

url="http://127.0.0.1:$PORT/.well-known/openid-configuration"
if curl -fsS -o /dev/null "$url" 2>/dev/null; then
  echo "port $PORT already answers (another process): not starting a second provider there" >&2; exit 1
fi

node server.mjs >"$LOGFILE" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 1 150); do
  # Up only if OUR process is alive and answering (not some other listener).
  if kill -0 "$(cat "$PIDFILE")" 2>/dev/null && curl -fsS -o /dev/null "$url" 2>/dev/null; then
    echo "oidc-provider up: http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; exit 0
  fi
  kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
  sleep 0.1
done
echo "oidc-provider failed to start on port $PORT; log:" >&2; cat "$LOGFILE" >&2
kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; exit 1
