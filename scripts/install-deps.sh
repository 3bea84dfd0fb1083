#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, Node/npm and Python with
# moto: curl (peer start scripts), Debian's chromium (browser sign-in test).
# Uses apt-get as root, or through sudo; does nothing when all is present.
set -euo pipefail
need=()
command -v curl >/dev/null || need+=(curl)
command -v flock >/dev/null || need+=(util-linux)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then echo "tools present"; exit 0; fi
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo)
echo "installing: ${need[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
