// Small process helpers for the lab. Commands are argument vectors (no shell), so nothing needs quoting.
import { execFile, spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (exit ${code ?? 'signal'}): ${stderr.trim() || '(no output)'}`);
  }
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export function run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new CommandError(argv, typeof err.code === 'number' ? err.code : null, String(stderr)));
        else resolvePromise(String(stdout));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but a failure is an answer (false), not an error. */
export async function succeeds(argv: string[]): Promise<boolean> {
  try {
    await run(argv, { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a long-lived process that outlives the CLI: its own session, output to a log file.
 * Returns its pid (with `ip netns exec`/`nsenter` the command is exec'd, so the pid is the server's).
 */
export function daemon(argv: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The process's command line, or undefined when it is gone (or a zombie). */
export function cmdline(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) [ZX] /.test(stat)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * True when pid is alive and still the process we started: its command line mentions `marker`
 * (the lab dir), so a recycled pid is never mistaken for ours.
 */
export function isOurs(pid: number | undefined, marker: string): boolean {
  if (!pid) return false;
  const c = cmdline(pid);
  return c !== undefined && c.includes(marker);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until check() returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await sleep(intervalMs);
  }
}

/** SIGKILL when the pid is still ours; waits until it is gone. */
export async function killHard(pid: number | undefined, marker: string, timeoutMs = 5000): Promise<boolean> {
  if (!isOurs(pid, marker)) return false;
  try {
    process.kill(pid as number, 'SIGKILL');
  } catch {
    return false;
  }
  await waitFor(
    `pid ${pid} to exit`,
    async () => (cmdline(pid as number) === undefined ? true : undefined),
    timeoutMs,
    20,
  );
  return true;
}

/**
 * fn over items, at most `limit` at once; results in the items' order. After a failure no new item
 * starts, and it rejects (with the first error) only once those running have ended: a teardown
 * that follows must not race a lane still making something.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (x: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const ends = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failure = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failure) throw failure.reason;
  return out;
}
