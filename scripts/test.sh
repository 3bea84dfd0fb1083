#!/usr/bin/env bash
# The whole test suite, with its real peers: two oidc-provider instances
# (default token TTL, and a 5 s TTL), moto_server seeded with a Cognito user
# pool, redis-server (the fleet token store), and headless Chromium for the browser sign-in test. Installs what is
# missing, runs gofmt, go vet and staticcheck (pinned, failing on any
# finding) on every module, starts the peers on 127.0.0.1, runs every
# module's tests under -race, and stops the peers however it ends.
#
# Env (optional): OIDC_PORT (9010), OIDC_SHORT_PORT (9011), MOTO_PORT (9020),
# REDIS_PORT (6410), REDIS_SPARE_PORT (6411: redisstore tests start, pause,
# kill and restart their own redis-server there),
# GOTEST_FLAGS (extra flags for go test), BENCH=1 (also print the benchmark
# comparison with x/oauth2, see scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
OIDC_PORT=${OIDC_PORT:-9010}
OIDC_SHORT_PORT=${OIDC_SHORT_PORT:-9011}
MOTO_PORT=${MOTO_PORT:-9020}
REDIS_PORT=${REDIS_PORT:-6410}
REDIS_SPARE_PORT=${REDIS_SPARE_PORT:-6411}
state=$(mktemp -d "${TMPDIR:-/tmp}/authorizer-test.XXXXXX")

log() { printf '\n== %s\n' "$*"; }

stop_peers() {
  PIDFILE=$state/oidc.pid scripts/peers/oidc-provider/stop.sh >/dev/null 2>&1 || true
  PIDFILE=$state/oidc-short.pid scripts/peers/oidc-provider/stop.sh >/dev/null 2>&1 || true
  PIDFILE=$state/moto.pid scripts/peers/moto/stop.sh >/dev/null 2>&1 || true
  PIDFILE=$state/redis.pid scripts/peers/redis/stop.sh >/dev/null 2>&1 || true
}
on_exit() {
  status=$?
  stop_peers
  if [ "$status" -ne 0 ]; then
    for f in "$state"/*.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 30 "$f"; }; done
  fi
  rm -rf "$state"
  exit "$status"
}
trap on_exit EXIT

log "Tools"
scripts/install-deps.sh

# Every Go module of the repository: the root and each nested go.mod.
modules() {
  find . -name go.mod -not -path '*/node_modules/*' -not -path './.git/*' -exec dirname {} \; | sort
}

# staticcheck at a pinned version, installed once with go install (the
# build cache makes later runs instant).
STATICCHECK_VERSION=v0.8.2
staticcheck_bin() {
  local bin
  bin="$(go env GOBIN)"
  [ -n "$bin" ] || bin="$(go env GOPATH)/bin"
  if ! "$bin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
    go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" >&2
  fi
  echo "$bin/staticcheck"
}

log "Static checks"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './*/node_modules/*'))
[ -z "$unformatted" ] || { echo "gofmt needed:"; echo "$unformatted"; exit 1; }
staticcheck=$(staticcheck_bin)
for mod in $(modules); do
  echo "go vet, staticcheck: $mod"
  (cd "$mod" && go vet ./... && "$staticcheck" ./...) # staticcheck exits non-zero on any finding
done

log "Peers"
PORT=$OIDC_PORT PIDFILE=$state/oidc.pid LOGFILE=$state/oidc.log scripts/peers/oidc-provider/start.sh
PORT=$OIDC_SHORT_PORT ACCESS_TOKEN_TTL=5 PIDFILE=$state/oidc-short.pid LOGFILE=$state/oidc-short.log \
  scripts/peers/oidc-provider/start.sh
PORT=$MOTO_PORT PIDFILE=$state/moto.pid LOGFILE=$state/moto.log scripts/peers/moto/start.sh
python3 scripts/peers/moto/seed.py "http://127.0.0.1:$MOTO_PORT" >"$state/cognito.json"
PORT=$REDIS_PORT PIDFILE=$state/redis.pid LOGFILE=$state/redis.log DIR=$state/redis scripts/peers/redis/start.sh

export AUTHORIZER_REQUIRE_PEERS=1
export AUTHORIZER_OIDC_ISSUER=http://127.0.0.1:$OIDC_PORT
export AUTHORIZER_OIDC_SHORT_ISSUER=http://127.0.0.1:$OIDC_SHORT_PORT
export AUTHORIZER_COGNITO_SEED=$state/cognito.json
export AUTHORIZER_REDIS_ADDR=127.0.0.1:$REDIS_PORT
export AUTHORIZER_REDIS_SPARE_PORT=$REDIS_SPARE_PORT
export AUTHORIZER_CHROMIUM=${AUTHORIZER_CHROMIUM:-$(command -v chromium || true)}

log "Tests: module github.com/seed-d44eba79/authorizer"
# shellcheck disable=SC2086
go test -race -count=1 ${GOTEST_FLAGS:-} ./...
for mod in $(modules); do
  [ "$mod" = . ] && continue
  log "Tests: nested module $mod"
  # shellcheck disable=SC2086
  (cd "$mod" && go test -race -count=1 ${GOTEST_FLAGS:-} ./...)
done

if [ "${BENCH:-0}" = 1 ]; then
  log "Benchmarks (base.Transport vs x/oauth2)"
  scripts/bench.sh
fi
log "All tests passed"
