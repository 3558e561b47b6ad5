#!/usr/bin/env bash
# npm run demo [-- --down] [-- --master-master]: prepares the machine when needed (npm run setup), then brings the lab
# up with its Temporal dev server and worker and runs a planned successover db1 → db2 and back
# under write load (scripts/demo.ts). The lab stays up for exploring unless --down (or
# SUCCESSOVER_DEMO_DOWN=1) is given; `npx successover lab down` removes it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Quick check first: setup.sh knows how to do each part, but needs no call when all are there.
ready() {
  [ -f node_modules/.successover-lock.sha256 ] &&
    [ "$(cat node_modules/.successover-lock.sha256)" = "$(sha256sum package-lock.json | cut -d' ' -f1)" ] &&
    [ -x .tools/bin/temporal ] &&
    command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null &&
    { [ "$(id -u)" -ne 0 ] || { [ -x /usr/sbin/sshd ] && command -v arping >/dev/null; }; } &&
    { [ "$(id -u)" -eq 0 ] || command -v haproxy >/dev/null; }
}
if ready; then
  echo "[demo] setup already done (npm run setup to check everything)"
else
  echo "[demo] preparing the machine: npm run setup"
  bash scripts/setup.sh
fi

exec node_modules/.bin/tsx scripts/demo.ts "$@"
