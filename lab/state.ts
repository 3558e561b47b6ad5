// The state file (<labdir>/state.json) and the lock that keeps two `lab` commands off one lab.
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabState } from './types';

/** <repo>/.lab (git-ignored). */
export const defaultLabDir = () => resolve(__dirname, '..', '.lab');
export const labDir = (dir?: string) => resolve(dir ?? defaultLabDir());

export const statePath = (dir: string) => join(dir, 'state.json');

export function readState(dir: string): LabState | undefined {
  const p = statePath(dir);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as LabState;
  } catch (e) {
    throw new Error(
      `${p} is unreadable (${(e as Error).message}): inspect it, remove what it lists by hand, then delete it`,
    );
  }
}

/** Written after every resource is made, atomically, so a crash leaves a usable record. */
export function writeState(state: LabState): void {
  const p = statePath(state.dir);
  writeFileSync(`${p}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${p}.tmp`, p);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exclusive lock file with our pid; a lock left by a dead process is taken over. */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>): Promise<T> {
  const p = join(dir, 'lab.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(p, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const holder = Number(readFileSync(p, 'utf8').trim());
      if (holder && holder !== process.pid && pidAlive(holder))
        throw new Error(
          `another lab command (pid ${holder}) is working on ${dir}: wait for it, then retry ${what}`,
        );
      unlinkSync(p);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(p);
    } catch {
      // already gone: down removed the dir
    }
  }
}

export function requireState(dir?: string): LabState {
  const d = labDir(dir);
  const st = existsSync(d) ? readState(d) : undefined;
  if (!st) throw new Error(`no lab in ${d}: run \`successover lab up\` first`);
  return st;
}
