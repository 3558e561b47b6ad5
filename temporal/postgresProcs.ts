// Background processes of the PostgreSQL-backed Temporal (postgres, temporal-server, the UI
// server): started detached or tied to this process, recognised later by pid AND command line (pids
// get reused), stopped by that pid alone.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const SETPRIV = '/usr/bin/setpriv';

export interface SpawnOptions {
  binary: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this OS user (PostgreSQL refuses root); needs root and setpriv. */
  user?: string;
  /**
   * Killed by the kernel when this process exits or dies, even by SIGKILL (tests); otherwise a
   * session of its own that outlives the CLI.
   */
  tied?: boolean;
}

export interface Spawned {
  pid: number;
  /** Why the process is gone, once it exited (bad flag, port taken): the log's tail included. */
  gone: () => string | undefined;
}

/** The last lines of a log, for an error message. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function spawnBackground(o: SpawnOptions): Promise<Spawned> {
  const tied = o.tied === true && existsSync(SETPRIV);
  // The parent-death signal is cleared when the credentials change, so the user switch comes
  // first and a second setpriv (already that user) sets it.
  const prefix = [
    ...(o.user ? [SETPRIV, '--reuid', o.user, '--regid', o.user, '--init-groups', '--'] : []),
    ...(tied ? [SETPRIV, '--pdeathsig', 'KILL', '--'] : []),
  ];
  if (o.user && !existsSync(SETPRIV))
    throw new Error(`${SETPRIV} is missing (util-linux): cannot run as ${o.user}`);
  const [cmd, ...args] = [...prefix, o.binary, ...o.args];
  const log = openSync(o.logFile, 'a');
  const child = spawn(cmd, args, { detached: !o.tied, stdio: ['ignore', log, log], env: o.env });
  closeSync(log);
  let exited: string | undefined;
  const name = o.binary.slice(o.binary.lastIndexOf('/') + 1);
  child.once('error', (e) => (exited = `cannot run ${o.binary}: ${e.message}`));
  child.once('exit', (code, signal) => {
    exited ??= `${name} exited (${signal ?? `code ${code}`}) while starting; its log ${o.logFile} ends:\n${logTail(o.logFile)}`;
  });
  child.unref();
  if (child.pid === undefined) {
    await sleep(10);
    throw new Error(exited ?? `cannot run ${o.binary}`);
  }
  const pid = child.pid;
  // setpriv --pdeathsig is missing: kill it at our exit at least.
  if (o.tied && !tied) process.once('exit', () => signal(pid, 'SIGKILL'));
  return { pid, gone: () => exited };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** True when pid runs and its command line holds every one of `marks` as whole arguments. */
export function isOurProcess(pid: number | undefined, marks: string[]): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux';
  }
  // A zombie has an empty command line: gone as far as we are concerned.
  return marks.every((m) => `\0${cmdline}`.includes(`\0${m}\0`));
}

/** Signals pid (recognised by marks) and waits until it is gone; SIGKILL after timeoutMs. */
export async function stopProcess(
  pid: number | undefined,
  marks: string[],
  sig: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 10_000,
): Promise<boolean> {
  if (!isOurProcess(pid, marks)) return false;
  signal(pid as number, sig);
  const deadline = Date.now() + timeoutMs;
  while (isOurProcess(pid, marks)) {
    if (Date.now() > deadline) {
      signal(pid as number, 'SIGKILL');
      await sleep(100);
      break;
    }
    await sleep(50);
  }
  return true;
}

/** Polls fn until it resolves; rethrows its last error (with `what`) after timeoutMs. */
export async function retryUntil<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T>,
  gone: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why) throw new Error(why);
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs} ms: ${e instanceof Error ? e.message : String(e)}`);
    }
    await sleep(100);
  }
}
