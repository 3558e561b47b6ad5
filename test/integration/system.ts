// What the tests read of the machine itself, to prove a lab left nothing behind: namespaces,
// links and processes, as `ip` and /proc show them.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const sh = (...argv: string[]): string => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });

/** Network namespaces, sorted; only `${prefix}-*` when a prefix is given. */
export const netnsNames = (prefix?: string): string[] =>
  sh('ip', 'netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n && (prefix === undefined || n.startsWith(`${prefix}-`)))
    .sort();

/** Link names of the root namespace (a veth without its peer suffix), sorted; filtered as above. */
export const linkNames = (prefix?: string): string[] =>
  sh('ip', '-o', 'link', 'show')
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0])
    .filter((n): n is string => !!n && (prefix === undefined || n.startsWith(`${prefix}-`)))
    .sort();

/** Alive and not a zombie. */
export const alive = (pid: number): boolean => {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Live pids whose command line mentions `marker` (the lab dir). */
export const processesOf = (marker: string): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return alive(Number(p)) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });

/** Polls `fn` every 100 ms until it returns a value (a throw counts as not yet). */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
