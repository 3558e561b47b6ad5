// How a lab host's mariadbd is stopped and started by someone other than the lab: provisioning
// stops it over SSH to restore a physical backup into its datadir, then starts it again, as a DBA
// would with `systemctl stop/start mariadb`. Each host gets two scripts in its lab dir; the
// inventory names them (host.service). A server started by them has a pid the lab never recorded,
// so the lab finds a host's running mariadbd through its pid file as well (runningPid).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../activities/ssh';
import { findBinary } from './bin';
import { serverArgs, type ServerConfig } from './mariadb';
import { cmdline } from './sh';

export interface ServiceScripts {
  datadir: string;
  startCommand: string;
  stopCommand: string;
}

/** Marks the command line of this host's mariadbd (the datadir is unique to the host). */
const datadirArg = (c: ServerConfig) => `--datadir=${c.datadir}`;

/** True when pid is a live mariadbd (not a zombie) of this datadir. */
export function isServerOf(pid: number | undefined, c: ServerConfig): boolean {
  if (!pid) return false;
  const cmd = cmdline(pid);
  return cmd !== undefined && cmd.split(' ').includes(datadirArg(c));
}

function pidFromFile(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host's running mariadbd: the pid the lab recorded when it still is that server, else the one
 * in its pid file (a server restarted by the scripts, or by a runbook through them); null when none.
 */
export function runningPid(c: ServerConfig, recorded: number | undefined): number | null {
  if (isServerOf(recorded, c)) return recorded as number;
  const fromFile = pidFromFile(c.pidFile);
  return isServerOf(fromFile, c) ? (fromFile as number) : null;
}

/** ERE for pgrep -f: the datadir argument, ending at a space or the end of the command line. */
const datadirPattern = (c: ServerConfig) => ` ${datadirArg(c).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}( |$)`;

// Shared by both scripts: which process is this host's mariadbd. The pid file first; pgrep covers
// a server that has not written it yet or whose file was removed.
const commonShell = (c: ServerConfig) => `set -u
DATADIR=${shellQuote(c.datadir)}
PIDFILE=${shellQuote(c.pidFile)}
PATTERN=${shellQuote(datadirPattern(c))}

# ours PID: alive, not a zombie, and a mariadbd of this datadir.
ours() {
  [ -r "/proc/$1/cmdline" ] || return 1
  case "$(sed -n 's/^.*) \\(.\\) .*$/\\1/p' "/proc/$1/stat" 2>/dev/null)" in Z|X|'') return 1 ;; esac
  case " $(tr '\\000' ' ' <"/proc/$1/cmdline" 2>/dev/null) " in *" --datadir=$DATADIR "*) return 0 ;; esac
  return 1
}

# current: prints the pid of this host's running mariadbd; fails when none runs.
current() {
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && ours "$pid"; then echo "$pid"; return 0; fi
  for pid in $(pgrep -f -- "$PATTERN" || true); do
    if ours "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}
`;

function startScript(host: string, c: ServerConfig, netns: string | null): string {
  const argv = serverArgs(c);
  // Over SSH the shell already is in the namespace (sshd runs there); entering it by name makes
  // the script just as right when run from the machine's root namespace.
  const command = (netns ? [findBinary('ip'), 'netns', 'exec', netns, ...argv] : argv).map(shellQuote);
  const admin = findBinary('mariadb-admin');
  return `#!/bin/sh
# Starts ${host}'s mariadbd with the options \`lab up\` gave it (read-only), in the background, and
# returns once its socket answers. Does nothing when it already runs. Written by the lab.
# Usage: mariadbd-start.sh [timeout-seconds, default 120]
${commonShell(c)}
SOCKET=${shellQuote(c.socket)}
ERRLOG=${shellQuote(c.logError)}
TIMEOUT=\${1:-120}

if pid=$(current); then
  echo "mariadbd of ${host} already runs (pid $pid)"
  exit 0
fi
# setsid + nohup + no inherited stdio: the server outlives the SSH session that started it.
setsid nohup ${command.join(' ')} </dev/null >>"$ERRLOG.out" 2>&1 &
started=$!
ticks=$((TIMEOUT * 10))
while [ "$ticks" -gt 0 ]; do
  if ${shellQuote(admin)} --no-defaults --protocol=socket --socket="$SOCKET" --user=root \\
    --connect-timeout=1 ping >/dev/null 2>&1; then
    echo "mariadbd of ${host} started (pid $(current || echo "$started"))"
    exit 0
  fi
  if ! ours "$started" && ! current >/dev/null; then
    echo "mariadbd of ${host} exited during startup; the end of $ERRLOG:" >&2
    tail -n 20 "$ERRLOG" >&2
    exit 1
  fi
  sleep 0.1
  ticks=$((ticks - 1))
done
echo "mariadbd of ${host} (pid $started) did not answer on $SOCKET within $TIMEOUT s: see $ERRLOG" >&2
exit 1
`;
}

function stopScript(host: string, c: ServerConfig): string {
  return `#!/bin/sh
# Stops ${host}'s mariadbd (SIGTERM, a clean shutdown; SIGKILL after the timeout) and returns once
# the process is gone. Does nothing when it does not run. Written by the lab.
# Usage: mariadbd-stop.sh [timeout-seconds, default 120]
${commonShell(c)}
TIMEOUT=\${1:-120}

gone() {
  ticks=$(($2 * 10))
  while [ "$ticks" -gt 0 ]; do
    ours "$1" || return 0
    sleep 0.1
    ticks=$((ticks - 1))
  done
  return 1
}

if ! pid=$(current); then
  echo "mariadbd of ${host} is not running"
  exit 0
fi
kill -TERM "$pid" 2>/dev/null || true
if ! gone "$pid" "$TIMEOUT"; then
  echo "mariadbd of ${host} (pid $pid) still runs after $TIMEOUT s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  if ! gone "$pid" 10; then
    echo "mariadbd of ${host} (pid $pid) survived SIGKILL" >&2
    exit 1
  fi
fi
echo "mariadbd of ${host} stopped (pid $pid)"
`;
}

/** Writes <hostDir>/mariadbd-start.sh and mariadbd-stop.sh; returns the inventory's host.service. */
export function writeServiceScripts(
  host: string,
  hostDir: string,
  c: ServerConfig,
  netns: string | null,
): ServiceScripts {
  const start = join(hostDir, 'mariadbd-start.sh');
  const stop = join(hostDir, 'mariadbd-stop.sh');
  writeFileSync(start, startScript(host, c, netns), { mode: 0o755 });
  writeFileSync(stop, stopScript(host, c), { mode: 0o755 });
  return { datadir: c.datadir, startCommand: shellQuote(start), stopCommand: shellQuote(stop) };
}
