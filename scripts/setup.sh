#!/usr/bin/env bash
# Prepares a Debian 12 machine for successover: npm dependencies, the compiled CLI in the
# git-ignored dist/, the Debian packages the lab and benchmarks use, and the Temporal CLI (dev
# server + UI) in the git-ignored .tools/bin.
# Safe to rerun: each part checks first and only does what is missing. Needs root only when
# Debian packages are missing; never stops or reconfigures services already on the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS_BIN="$ROOT/.tools/bin"
TEMPORAL_CLI_VERSION=v1.5.1
# The CLI embeds its server; v1.5 embeds Server 1.29, which is what a source build reports.
MIN_CLI=1.5
MIN_SERVER=1.29
MIN_NODE=20.19
MIN_GO=1.25
APT_PACKAGES=(mariadb-server mariadb-client mariadb-backup openssh-server haproxy iputils-arping iproute2 sysbench chromium)
# The alerting chain (lab up --alerting, promtool/amtool in the tests) and `docker-compose config`
# (compose file validation). Without their Recommends: docker-compose's would install a Docker
# engine, which this machine must not run, and prometheus's a node exporter nobody uses.
APT_NO_RECOMMENDS=(prometheus prometheus-alertmanager prometheus-mysqld-exporter docker-compose)

T_ALL=$EPOCHREALTIME
T_PART=$T_ALL
part() { T_PART=$EPOCHREALTIME; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }
done_part() { printf '[setup] %-9s %s (%s)\n' "$1" "$2" "$(since "$T_PART")"; }
missing=()

# version_ge A B: true when dotted version A >= B.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# --- prerequisites that this script cannot install itself -----------------------------------
part
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=("Node.js >= $MIN_NODE with npm (e.g. https://deb.nodesource.com: apt-get install nodejs)")
elif ! version_ge "$(node -p 'process.versions.node')" "$MIN_NODE"; then
  missing+=("Node.js >= $MIN_NODE (found $(node --version))")
fi

# --- npm dependencies -----------------------------------------------------------------------
npm_stamp="$ROOT/node_modules/.successover-lock.sha256"
lock_hash() { sha256sum package-lock.json | cut -d' ' -f1; }
# Without a stamp (node_modules made by someone else), trust npm's own record of what it
# installed (node_modules/.package-lock.json) when every required package matches the lock.
installed_matches_lock() {
  [ -f node_modules/.package-lock.json ] || return 1
  node -e '
    const lock = require("./package-lock.json").packages;
    const have = require("./node_modules/.package-lock.json").packages;
    const bad = Object.entries(lock).filter(([k, v]) => k && !v.optional && have[k]?.version !== v.version);
    process.exit(bad.length ? 1 : 0);'
}
if [ ${#missing[@]} -eq 0 ]; then
  if [ -d node_modules ] && [ -f "$npm_stamp" ] && [ "$(cat "$npm_stamp")" = "$(lock_hash)" ]; then
    done_part npm "node_modules matches package-lock.json, skipped npm ci"
  elif [ -d node_modules ] && installed_matches_lock; then
    lock_hash >"$npm_stamp"
    done_part npm "node_modules matches package-lock.json (recorded), skipped npm ci"
  else
    echo "[setup] npm       running npm ci"
    npm ci --no-audit --no-fund
    lock_hash >"$npm_stamp"
    done_part npm "npm ci done"
  fi
fi

# --- the compiled CLI ----------------------------------------------------------------------
# bin/successover.js runs dist/ when it matches the sources (tsx otherwise): compile when they
# changed since the last build (scripts/build-cli.js decides, from dist/manifest.json).
# A failed build is not fatal: the CLI then runs the sources, and `npm run check` names the error.
part
if [ ${#missing[@]} -eq 0 ]; then
  if build_out=$(node scripts/build-cli.js 2>&1); then
    done_part cli "${build_out#\[build\] }"
  else
    echo "[setup] cli       not compiled, the CLI runs the TypeScript sources (slower start): ${build_out#\[build\] }" >&2
  fi
fi

# --- Debian packages ------------------------------------------------------------------------
part
apt_missing=()
apt_missing_norec=()
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" "${APT_NO_RECOMMENDS[@]}" 2>/dev/null || true)
for p in "${APT_PACKAGES[@]}"; do
  grep -qx "$p install ok installed" <<<"$installed" || apt_missing+=("$p")
done
for p in "${APT_NO_RECOMMENDS[@]}"; do
  grep -qx "$p install ok installed" <<<"$installed" || apt_missing_norec+=("$p")
done
if [ $((${#apt_missing[@]} + ${#apt_missing_norec[@]})) -eq 0 ]; then
  done_part packages "all present (${APT_PACKAGES[*]} ${APT_NO_RECOMMENDS[*]}), skipped"
elif [ "$(id -u)" -ne 0 ]; then
  [ ${#apt_missing[@]} -eq 0 ] || missing+=("Debian packages (run as root): apt-get update && apt-get install -y ${apt_missing[*]}")
  [ ${#apt_missing_norec[@]} -eq 0 ] || missing+=("Debian packages (run as root): apt-get update && apt-get install -y --no-install-recommends ${apt_missing_norec[*]}")
else
  echo "[setup] packages  installing ${apt_missing[*]} ${apt_missing_norec[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Installing only: services the packages bring (mariadb, ssh, prometheus) are left as the
  # package sets them; the lab runs its own instances on ports of its own.
  [ ${#apt_missing[@]} -eq 0 ] || apt-get install -y -q "${apt_missing[@]}"
  [ ${#apt_missing_norec[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${apt_missing_norec[@]}"
  done_part packages "installed ${apt_missing[*]} ${apt_missing_norec[*]}"
fi

# --- Temporal CLI ---------------------------------------------------------------------------
part
# Accepts "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)" and, for source builds that
# report "0.0.0-DEV", the embedded Server version.
temporal_ok() {
  local out cli server
  out=$("$1" --version 2>/dev/null) || return 1
  TEMPORAL_VERSION=$out
  cli=$(sed -nE 's/^temporal version v?([0-9]+\.[0-9]+(\.[0-9]+)?).*/\1/p' <<<"$out")
  server=$(sed -nE 's/.*\(Server v?([0-9]+\.[0-9]+(\.[0-9]+)?).*/\1/p' <<<"$out")
  if [ -n "$cli" ] && [ "$cli" != 0.0.0 ] && version_ge "$cli" "$MIN_CLI"; then return 0; fi
  [ -n "$server" ] && version_ge "$server" "$MIN_SERVER"
}

# build_go_tool NAME PACKAGE@VERSION MINUTES: `go install` names the binary after the package's
# last path element ("temporal", "server", "sql"), so it builds into a scratch dir and moves it
# to NAME. Up to two attempts.
build_go_tool() {
  local name=$1 pkg=$2 took=$3 attempt stage pid start
  stage=$(mktemp -d)
  for attempt in 1 2; do
    echo "[setup] $name building ${pkg} into .tools/bin (attempt $attempt, takes $took)"
    # Bounded, with progress: a module download once stalled for minutes without an error.
    CGO_ENABLED=0 GOBIN="$stage/bin" timeout 1200 go install "$pkg" >"$stage/log" 2>&1 &
    pid=$! start=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
      sleep 15
      kill -0 "$pid" 2>/dev/null || break
      echo "[setup] $name ... $((SECONDS - start))s: $(tail -n1 "$stage/log" | cut -c1-100)"
    done
    if wait "$pid"; then
      mv "$stage/bin/$(basename "${pkg%@*}")" "$TOOLS_BIN/$name"
      rm -rf "$stage"
      return 0
    fi
    echo "[setup] $name attempt $attempt failed:" >&2
    tail -n 20 "$stage/log" >&2
  done
  rm -rf "$stage"
  return 1
}

wait_for_other_go_build() {
  local pids
  while pids=$(pgrep -f "go install $1" || true) && [ -n "$pids" ]; do
    echo "[setup] $2 another build is running (pid $(echo $pids | tr '\n' ' ')); waiting for it"
    sleep 15
  done
}

mkdir -p "$TOOLS_BIN"
if [ -x "$TOOLS_BIN/temporal" ] && temporal_ok "$TOOLS_BIN/temporal"; then
  done_part temporal "$TEMPORAL_VERSION in .tools/bin, skipped"
else
  wait_for_other_go_build github.com/temporalio/cli temporal
  path_temporal=$(PATH="${PATH//$TOOLS_BIN:/}" command -v temporal || true)
  if [ -x "$TOOLS_BIN/temporal" ] && temporal_ok "$TOOLS_BIN/temporal"; then
    done_part temporal "$("$TOOLS_BIN/temporal" --version) in .tools/bin (built by the other run)"
  elif [ -n "$path_temporal" ] && temporal_ok "$path_temporal"; then
    ln -sf "$path_temporal" "$TOOLS_BIN/temporal"
    done_part temporal "using $path_temporal ($("$path_temporal" --version)), linked into .tools/bin"
  elif ! command -v go >/dev/null; then
    missing+=("Go >= $MIN_GO to build the Temporal CLI (https://go.dev/dl/), or a temporal CLI >= v$MIN_CLI on PATH")
  elif ! version_ge "$(go env GOVERSION | sed 's/^go//')" "$MIN_GO"; then
    missing+=("Go >= $MIN_GO to build the Temporal CLI (found $(go env GOVERSION))")
  elif rm -f "$TOOLS_BIN/temporal" &&
    build_go_tool temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" "2-3 min" &&
    temporal_ok "$TOOLS_BIN/temporal"; then
    done_part temporal "built $("$TOOLS_BIN/temporal" --version)"
  else
    echo "[setup] temporal  build failed twice; see the output above" >&2
    exit 1
  fi
fi

# --- the production-like Temporal: server, schema tool, UI server, schema, PostgreSQL ----------
# `successover temporal start --persistence postgres` (temporal/postgres.ts) runs these.
part
# version_line BINARY: what the binary says of its version ("temporal version 1.29.1").
version_line() { "$1" --version 2>/dev/null | head -n1; }
# go_tool_ok NAME VERSION: .tools/bin/NAME reports VERSION (without the v).
go_tool_ok() { [ -x "$TOOLS_BIN/$1" ] && grep -qE "version v?${2//./\\.}\$" <<<"$(version_line "$TOOLS_BIN/$1")"; }

# NAME PACKAGE VERSION MINUTES: the server and its schema tool come from the server's module at
# the version the CLI embeds; the UI server at the version the CLI v1.5.1 embeds (its go.mod).
TEMPORAL_SERVER_VERSION=1.29.1
TEMPORAL_UI_VERSION=2.42.1
GO_TOOLS=(
  "temporal-server go.temporal.io/server/cmd/server $TEMPORAL_SERVER_VERSION 5-6 min"
  "temporal-sql-tool go.temporal.io/server/cmd/tools/sql $TEMPORAL_SERVER_VERSION 1-2 min"
  "temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server $TEMPORAL_UI_VERSION 1-2 min"
)
built=()
for t in "${GO_TOOLS[@]}"; do
  read -r name pkg version took <<<"$t"
  go_tool_ok "$name" "$version" && continue
  wait_for_other_go_build "$pkg" "$name"
  go_tool_ok "$name" "$version" && continue
  if ! command -v go >/dev/null || ! version_ge "$(go env GOVERSION | sed 's/^go//')" "$MIN_GO"; then
    missing+=("Go >= $MIN_GO to build $name ($pkg@v$version)")
  elif build_go_tool "$name" "$pkg@v$version" "$took" && go_tool_ok "$name" "$version"; then
    built+=("$name")
  else
    echo "[setup] $name build failed twice; see the output above" >&2
    exit 1
  fi
done
# The SQL schema temporal-sql-tool applies, from the server's module (the Go module cache, or one
# download), kept in .tools so that a start needs no network.
SCHEMA_DEST="$ROOT/.tools/temporal-schema"
if [ "$(cat "$SCHEMA_DEST/VERSION" 2>/dev/null)" != "$TEMPORAL_SERVER_VERSION" ] && command -v go >/dev/null; then
  mod_dir=$(go mod download -json "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')
  if [ -d "$mod_dir/schema/postgresql/v12" ]; then
    rm -rf "$SCHEMA_DEST"
    mkdir -p "$SCHEMA_DEST/postgresql"
    cp -r "$mod_dir/schema/postgresql/v12" "$SCHEMA_DEST/postgresql/"
    chmod -R u+w "$SCHEMA_DEST" # the module cache's copies are read-only
    echo "$TEMPORAL_SERVER_VERSION" >"$SCHEMA_DEST/VERSION"
    built+=("schema")
  else
    missing+=("the Temporal SQL schema: go mod download go.temporal.io/server@v$TEMPORAL_SERVER_VERSION failed")
  fi
fi
# PostgreSQL's server binaries. Installing Debian's package may start its machine-wide cluster;
# the project never uses nor reconfigures it: it runs a private instance per data dir.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    missing+=("PostgreSQL server binaries (run as root): apt-get update && apt-get install -y postgresql")
  else
    echo "[setup] temporal-pg installing postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    built+=("postgresql")
  fi
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ ${#built[@]} -eq 0 ]; then
  done_part temporal-pg "temporal-server $TEMPORAL_SERVER_VERSION, temporal-sql-tool, temporal-ui-server $TEMPORAL_UI_VERSION, schema and ${pg_bin:-no PostgreSQL} present, skipped"
else
  done_part temporal-pg "built/installed ${built[*]} (PostgreSQL: ${pg_bin:-missing})"
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] cannot finish: install these, then run npm run setup again:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi
echo "[setup] ready ($(since "$T_ALL") total)"
