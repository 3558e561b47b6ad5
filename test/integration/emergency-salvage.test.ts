// Issue 17 on the netns lab without semi-sync: the replicas stop receiving, the primary keeps
// acknowledging writes for a second, then its mariadbd is killed -9 while its host stays up.
// Salvage reads those writes from its binary log over SSH and applies them to the candidate
// before it takes writes; with the policy off they are lost and the report lists them; with the
// whole host cut off the recovery goes on with a warning.
import { lostThrough, sleep } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import type { EmergencyRecoveryResult } from '../../domain/runbook';
import { labKill, labPartition, labStart, labStatus } from '../../lab/index';
import { emergencyRecovery, fenceWatch, rejoin } from '../../workflows';
import { fenceWatchId, workflowIdFor } from '../../workflows/api';
import { inventoryVariant } from './inventoryVariant';
import { query, startLab, type LabFixture } from './labFixture';
import { endFenceWatches, withWorker, type WithWorkerContext } from './temporal';

let lab: LabFixture;
let writer: Writer | undefined;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await writer?.stop();
  await endFenceWatches(['db1', 'db2', 'db3']);
  await lab?.down();
});

async function primaryNow(): Promise<string> {
  const s = await labStatus({ dir: lab.dir });
  return s.hosts.filter((h) => h.role === 'primary').map((h) => h.name)[0];
}

/** Writes acknowledged by `primary` alone for a second (its replicas not receiving), then kill -9. */
async function killAheadOfReplicas(primary: string): Promise<{ acked: number }> {
  const replicas = lab.info.hosts.map((h) => h.name).filter((h) => h !== primary);
  writer = Writer.forLab(lab.info);
  await writer.start();
  await sleep(300);
  for (const r of replicas) await query(lab.info, r, 'STOP SLAVE IO_THREAD');
  const before = writer.acked.length;
  await sleep(1000);
  await labKill(primary, { dir: lab.dir });
  const acked = writer.acked.length - before;
  for (const r of replicas) await query(lab.info, r, 'START SLAVE IO_THREAD');
  return { acked };
}

/** The recovery on the worker's task queue: its fence watch lives there too, so one worker serves both. */
async function recover(ctx: WithWorkerContext, reason: string): Promise<EmergencyRecoveryResult> {
  return ctx.client.workflow.execute(emergencyRecovery, {
    taskQueue: ctx.taskQueue,
    workflowId: workflowIdFor('emergency-recovery', 'lab'),
    args: [{ cluster: 'lab', probeIntervalMs: 200, reason, ackFlapping: true }],
  });
}

/** Every acknowledged write on every live node (the replicas get the salvaged ones from the new primary). */
async function expectNothingLost(w: Writer, hosts: string[]): Promise<void> {
  await sleep(1500);
  for (const h of hosts) expect([h, await lostThrough(lab.info, h, w)]).toEqual([h, []]);
}

test('salvage on: every write db1 acknowledged alone is on the new primary and every replica', async () => {
  await withWorker(lab.info.inventory, async (ctx) => {
    const { acked } = await killAheadOfReplicas('db1');
    expect(acked).toBeGreaterThan(50);
    const r = await recover(ctx, 'db1 killed ahead of its replicas');
    expect(r.outcome).toBe('recovered');
    const s = r.salvage!;
    expect(s.status).toBe('salvaged');
    expect(s.salvaged!.count).toBeGreaterThanOrEqual(acked);
    expect(s.salvaged!.ranges.join(',')).toMatch(/^0-1-\d+\.\.0-1-\d+$/);
    expect(r.timeline.find((t) => t.step === 'salvage')?.detail).toMatch(/^salvaged: .*applied to/);
    const w = writer!;
    writer = undefined;
    await w.stop();
    await expectNothingLost(w, ['db2', 'db3']);
    console.log(
      `salvage: ${s.salvaged!.text} in ${s.seconds.toFixed(2)} s (${acked} writes acknowledged by db1 alone); recovery ${r.recoveryMs} ms`,
    );

    // db1 comes back holding nothing the new primary lacks: it rejoins as a replica.
    await labStart('db1', { dir: lab.dir });
    const watched = await ctx.client.workflow
      .getHandle<typeof fenceWatch>(fenceWatchId('lab', 'db1'))
      .result();
    expect(watched.lost.summary).toMatch(/^nothing lost/);
    const back = await ctx.client.workflow.execute(rejoin, {
      taskQueue: ctx.taskQueue,
      workflowId: workflowIdFor('rejoin', 'lab'),
      args: [{ cluster: 'lab', host: 'db1' }],
    });
    expect(back.pair).toBe(false);
  });
});

test('salvage off: the writes are lost, and the report lists them once the old primary answers', async () => {
  const primary = await primaryNow();
  const off = inventoryVariant(lab.info.inventory, 'no-salvage', (c) => {
    c.policy = { ...c.policy, salvageSeconds: 0 };
  });
  await withWorker(off, async (ctx) => {
    const { acked } = await killAheadOfReplicas(primary);
    expect(acked).toBeGreaterThan(50);
    const r = await recover(ctx, `${primary} killed ahead of its replicas, salvage off`);
    expect(r.salvage).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/salvage is off/) });
    const w = writer!;
    writer = undefined;
    await w.stop();
    expect((await lostThrough(lab.info, r.newPrimary!, w)).length).toBeGreaterThan(0);

    await labStart(primary, { dir: lab.dir });
    const watched = await ctx.client.workflow
      .getHandle<typeof fenceWatch>(fenceWatchId('lab', primary))
      .result();
    expect(watched.lost).toMatchObject({ known: true, lost: true });
    expect(watched.lost.summary).toMatch(new RegExp(`transactions committed on ${primary} never reached`));
  });
});

test('the whole host cut off: the recovery goes on, salvage skipped with the reason', async () => {
  // A lab of its own: the first one's old primaries are left fenced as a human would find them.
  const cut = await startLab({ mode: 'netns', hosts: 3 });
  try {
    await labPartition('db1', { dir: cut.dir });
    const r = await withWorker(cut.info.inventory, ({ client, taskQueue }) =>
      client.workflow.execute(emergencyRecovery, {
        taskQueue,
        workflowId: workflowIdFor('emergency-recovery', 'lab'),
        args: [{ cluster: 'lab', probeIntervalMs: 200, reason: 'db1 cut off', ackFlapping: true }],
      }),
    );
    expect(r.outcome).toBe('recovered');
    expect(r.salvage).toMatchObject({ status: 'skipped' });
    expect(r.salvage!.detail).toMatch(/did not answer SSH|cannot be read|unreachable/);
    expect(r.salvage!.seconds).toBeLessThan(2);
    console.log(`host cut off: recovery ${r.recoveryMs} ms, salvage skipped: ${r.salvage!.detail}`);
  } finally {
    await endFenceWatches(['db1']);
    await cut.down();
  }
});
