// A `successover worker` in a process of its own, for benchmarks that measure the worker's CPU and
// memory apart from the bench's (writers, lab, client). It runs the CLI as a user would, tied to
// this process (pdeathsig) so an interrupted bench leaves none behind.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchWorkerOptions {
  inventory: string;
  taskQueue: string;
  /** host:port of the Temporal frontend. */
  address: string;
  /** The worker's JSON log lines go here. */
  logFile: string;
  readyTimeoutMs?: number;
}

export interface BenchWorker {
  pid: number;
  /** SIGTERM (running activities finish), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = join(__dirname, '..');
const SETPRIV = '/usr/bin/setpriv';

export async function startWorkerProcess(o: BenchWorkerOptions): Promise<BenchWorker> {
  const cli = [process.execPath, join(ROOT, 'bin', 'successover.js'), 'worker'];
  const args = [...cli, '--inventory', o.inventory, '--task-queue', o.taskQueue];
  const log = openSync(o.logFile, 'a');
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: o.address,
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'info',
  };
  const child = existsSync(SETPRIV)
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', ...args], { env, cwd: ROOT, stdio: ['ignore', log, log] })
    : spawn(args[0], args.slice(1), { env, cwd: ROOT, stdio: ['ignore', log, log] });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  // Polling starts right after "worker started" (worker/main.ts): the log says when.
  while (!readFileSync(o.logFile, 'utf8').includes('"worker started"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `the worker did not start (see ${o.logFile}): ${readFileSync(o.logFile, 'utf8').slice(-500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** utime + stime of a process, in seconds (clock ticks are 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB. */
export function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
