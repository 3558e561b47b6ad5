// What a master-master pair must look like after every run, read from the servers and the kernel
// (or HAProxy), not through the code under test.
import type { Client } from '@temporalio/client';
import { sleep } from '../../bench/harness';
import type { Writer } from '../../bench/writer';
import type { PlannedSuccessoverResult } from '../../domain/runbook';
import { labStatus } from '../../lab/index';
import { planned } from './clusterSnapshot';
import { CRITICAL_STEPS } from './criticalSteps';
import { slaveStatus, type LabFixture } from './labFixture';

/** `primary` the one writable node and traffic holder; both directions replicating, no error. */
export async function expectPair(lab: Pick<LabFixture, 'dir' | 'info'>, primary: string): Promise<void> {
  const { info } = lab;
  const s = await labStatus({ dir: lab.dir });
  expect(s.vipHolders).toEqual([primary]);
  expect(s.hosts.filter((h) => h.readOnly === false).map((h) => h.name)).toEqual([primary]);
  for (const h of info.hosts) {
    const source = info.hosts.find((x) => x.name !== h.name)!;
    // A repointed side may still be connecting: give it a moment, then it must stream.
    let st = await slaveStatus(info, h.name);
    for (let i = 0; i < 20 && st?.Slave_IO_Running !== 'Yes'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = await slaveStatus(info, h.name);
    }
    expect([
      h.name,
      st?.Master_Host,
      st?.Master_Port,
      st?.Slave_IO_Running,
      st?.Slave_SQL_Running,
      st?.Last_IO_Error,
      st?.Last_SQL_Error,
    ]).toEqual([h.name, source.address, source.port, 'Yes', 'Yes', '', '']);
  }
}

/**
 * `runs` planned successovers back and forth on the pair under the lab's writer, each checked to
 * switch sides and leave the pair whole; the writer is stopped after them, whatever happens.
 */
export async function switchBackAndForth(
  lab: Pick<LabFixture, 'dir' | 'info'>,
  ctx: { client: Client; taskQueue: string },
  writer: Writer,
  runs: number,
): Promise<{ results: PlannedSuccessoverResult[]; primary: string }> {
  const results: PlannedSuccessoverResult[] = [];
  let primary = 'db1';
  await writer.start();
  try {
    await sleep(300);
    for (let i = 0; i < runs; i++) {
      const r = await planned(ctx.client, ctx.taskQueue, { cluster: 'lab' });
      expect([r.primary, r.target, r.pair]).toEqual([primary, primary === 'db1' ? 'db2' : 'db1', true]);
      // A pair's promotion only lifts read_only: the way back keeps replicating.
      expect(r.plan.filter((c) => c.step === 'promote').map((c) => c.command)).toEqual([
        'SET GLOBAL read_only=0',
      ]);
      results.push(r);
      primary = r.target;
      await expectPair(lab, primary);
      await sleep(200);
    }
  } finally {
    await writer.stop();
  }
  return { results, primary };
}

/**
 * Each run's blackout, and for one over `slowMs` its critical section's steps: a log that shows an
 * outlier shows where it went too.
 */
export function blackouts(results: PlannedSuccessoverResult[], slowMs = 50): string {
  const slow = results
    .filter((r) => (r.blackoutMs ?? 0) > slowMs)
    .map(
      (r) =>
        `${r.primary} → ${r.target} ${r.blackoutMs} ms: ${r.timeline
          .filter((s) => (CRITICAL_STEPS as readonly string[]).includes(s.step))
          .map((s) => `${s.step} ${s.ms ?? '?'}`)
          .join(', ')}`,
    );
  return `blackouts ${results.map((r) => r.blackoutMs).join(', ')} ms${slow.length ? ` (over ${slowMs} ms: ${slow.join('; ')})` : ''}`;
}
