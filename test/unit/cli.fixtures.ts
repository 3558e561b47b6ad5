// The CLI as a user runs it, with the Temporal address on a closed port: a command that checks
// its arguments first fails on them; one that tried to connect would fail differently (or hang).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'successover.js');

export function cli(...args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}
