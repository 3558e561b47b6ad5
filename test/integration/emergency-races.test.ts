// Emergency recovery racing other things on a netns lab: a planned successover holding the
// cluster lock (it steps aside before its point of no return), and a partitioned primary whose
// link comes back in the middle of the recovery (the replicas were frozen first: exactly one
// writable node and one VIP holder at every poll).
import type { Client } from '@temporalio/client';
import { Writer } from '../../bench/writer';
import { labHeal, labKill, labPartition, labStart, labStatus } from '../../lab/index';
import { emergencyRecovery, plannedSuccessover } from '../../workflows';
import { progressQuery, workflowIdFor } from '../../workflows/api';
import { failureReason } from '../../cli/runbooks';
import { stonithVariant } from './inventoryVariant';
import { startLab, type LabFixture } from './labFixture';
import { endFenceWatches, withWorker } from './temporal';

let lab: LabFixture;
let writer: Writer | undefined;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  delete process.env.SUCCESSOVER_FAILPOINTS;
  await writer?.stop();
  await lab?.down();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForStep(client: Client, workflowId: string, step: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = await client.workflow
      .getHandle(workflowId)
      .query(progressQuery)
      .catch(() => undefined);
    if (p?.timeline.some((s) => s.step === step)) return;
    if (Date.now() > until) throw new Error(`${workflowId} never reached step ${step}`);
    await sleep(50);
  }
}

test('a planned successover held before its critical section is pre-empted by the recovery of a killed primary', async () => {
  process.env.SUCCESSOVER_FAILPOINTS = 'plan=hold';
  try {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const planned = await client.workflow.start(plannedSuccessover, {
        taskQueue,
        workflowId: workflowIdFor('planned-successover', 'lab'),
        args: [{ cluster: 'lab', target: 'db2' }],
      });
      await waitForStep(client, planned.workflowId, 'plan');
      await labKill('db1', { dir: lab.dir });
      const r = await client.workflow.execute(emergencyRecovery, {
        taskQueue,
        workflowId: workflowIdFor('emergency-recovery', 'lab'),
        args: [{ cluster: 'lab', probeIntervalMs: 200, reason: 'db1 killed during a planned run' }],
      });
      expect([r.outcome, r.primary]).toEqual(['recovered', 'db1']);
      expect(r.timeline.find((s) => s.step === 'lock')?.detail).toMatch(
        /^taken after planned-successover planned-successover\/lab \(run /,
      );
      const ended = await planned.result().then(
        () => null,
        (e: unknown) => failureReason(e),
      );
      expect(ended?.type).toBe('Preempted');
      expect(ended?.message).toMatch(/pre-empted by emergency-recovery\/lab before its point of no return/);
      const s = await labStatus({ dir: lab.dir });
      expect(s.vipHolders).toEqual([r.newPrimary]);
      expect(s.hosts.filter((h) => h.up && h.readOnly === false).map((h) => h.name)).toEqual([r.newPrimary]);
      await endFenceWatches(['db1']);
    });
  } finally {
    delete process.env.SUCCESSOVER_FAILPOINTS;
  }
});

test('a partitioned primary whose link comes back mid-recovery: one writable node and one VIP holder at every poll', async () => {
  const { info } = lab;
  await labStart('db1', { dir: lab.dir }); // killed above: back read-only, replicating from no one
  const primary = (await labStatus({ dir: lab.dir })).vipHolders[0];
  const stonith = stonithVariant(lab);
  writer = Writer.forLab(info);
  await writer.start();
  await sleep(500);
  const violations: string[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const s = await labStatus({ dir: lab.dir });
      const writers = s.hosts.filter((h) => h.up && h.readOnly === false).map((h) => h.name);
      if (writers.length > 1 || s.vipHolders.length > 1)
        violations.push(`writable ${writers.join(',')}; VIP on ${s.vipHolders.join(',')}`);
      await sleep(100);
    }
  })();
  try {
    await labPartition(primary, { dir: lab.dir });
    await withWorker(stonith, async ({ client, taskQueue }) => {
      const workflowId = workflowIdFor('emergency-recovery', 'lab');
      const run = await client.workflow.start(emergencyRecovery, {
        taskQueue,
        workflowId,
        args: [{ cluster: 'lab', probeIntervalMs: 300, confirmTimeoutSeconds: 30, ackFlapping: true }],
      });
      // The link comes back as soon as the replicas are frozen, before the fence.
      await waitForStep(client, workflowId, 'stop receiving');
      await labHeal(primary, { dir: lab.dir });
      const r = await run.result();
      expect([r.outcome, r.primary]).toEqual(['recovered', primary]);
      await sleep(1000);
      const s = await labStatus({ dir: lab.dir });
      expect(s.vipHolders).toEqual([r.newPrimary]);
      expect(s.hosts.filter((h) => h.up && h.readOnly === false).map((h) => h.name)).toEqual([r.newPrimary]);
      // The healed old primary answers the watch's first round: it may have ended already.
      await endFenceWatches([primary]);
    });
  } finally {
    polling = false;
    await poller;
    await writer.stop();
    writer = undefined;
  }
  expect(violations).toEqual([]);
});
