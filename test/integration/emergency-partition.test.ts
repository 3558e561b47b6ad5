// Emergency recovery when the primary is cut off the network (alive, writable, holding the VIP):
// confirmed only once the replicas lose it too, fenced through the STONITH command, and never a
// second writer when the link comes back. Then the built-in detector recovers a crash by itself.
import { Writer } from '../../bench/writer';
import { labHeal, labKill, labPartition, labStatus } from '../../lab/index';
import { nsHasAddress } from '../../lab/net';
import { detector, emergencyRecovery } from '../../workflows';
import { detectorId, workflowIdFor } from '../../workflows/api';
import { stonithVariant } from './inventoryVariant';
import { query, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
let writer: Writer | undefined;
let newPrimary = 'db2';
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await writer?.stop();
  await lab?.down();
});

const readOnly = async (host: string) =>
  Number((await query(lab.info, host, 'SELECT @@read_only AS ro'))[0].ro) === 1;

describe('emergency recovery: partition and detector', () => {
  test('a partitioned primary is fenced by the STONITH command and no second writer appears on heal', async () => {
    const { info } = lab;
    const stonith = stonithVariant(lab);
    writer = Writer.forLab(info);
    await writer.start();
    await new Promise((r) => setTimeout(r, 500));
    await labPartition('db1', { dir: lab.dir });
    const cutAt = Date.now();
    await withWorker(stonith, async ({ client, taskQueue }) => {
      const r = await client.workflow.execute(emergencyRecovery, {
        taskQueue,
        workflowId: workflowIdFor('emergency-recovery', 'lab'),
        args: [{ cluster: 'lab', probeIntervalMs: 300, confirmTimeoutSeconds: 30, ackFlapping: true }],
      });
      // db2 and db3 were both replicating; the ranking picks the more advanced (then by name).
      const best = (r.ranking as { best: string }).best;
      expect([r.outcome, r.primary, r.newPrimary]).toEqual(['recovered', 'db1', best]);
      newPrimary = best;
      if (process.env.SUCCESSOVER_TEST_DEBUG) console.log(JSON.stringify(r.timeline, null, 1));
      const f = r.fencing as Record<'readOnly' | 'traffic' | 'command', { status: string; detail: string }>;
      expect(f.readOnly.status).toBe('failed'); // unreachable over the network…
      expect(f.traffic.status).toBe('failed');
      expect(f.command.status).toBe('done'); // …but the out-of-band path fenced it
      // Still partitioned, still running: read-only and without the VIP.
      const db1 = info.hosts.find((h) => h.name === 'db1')!;
      expect(await readOnly('db1')).toBe(true);
      expect(await nsHasAddress(db1.netns!, info.vip!.address)).toBe(false);

      await labHeal('db1', { dir: lab.dir });
      for (let i = 0; i < 10; i++) {
        const s = await labStatus({ dir: lab.dir });
        expect(s.hosts.filter((h) => h.readOnly === false).map((h) => h.name)).toEqual([best]);
        expect(s.vipHolders).toEqual([best]);
        await new Promise((res) => setTimeout(res, 300));
      }
      const watch = await client.workflow.getHandle(r.fenceWatch!).result();
      expect(watch.lost.known).toBe(true);
      const resumed = () => writer!.acked.some((a) => a.at > cutAt);
      for (let i = 0; i < 100 && !resumed(); i++) await new Promise((res) => setTimeout(res, 100));
      expect(resumed()).toBe(true);
    });
    await writer.stop();
    writer = undefined;
  });

  test('the detector starts the recovery of a crashed primary by itself, after continuing as new', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      // Short watches and a low history bound: the detector hands over to a new run within seconds.
      const watching = await client.workflow.start(detector, {
        taskQueue,
        workflowId: detectorId('lab'),
        args: [
          {
            cluster: 'lab',
            intervalSeconds: 0.5,
            probes: 3,
            cooldownSeconds: 5,
            watchSeconds: 1,
            continueAsNewAfterEvents: 20,
          },
        ],
      });
      try {
        const current = client.workflow.getHandle(detectorId('lab'));
        for (let i = 0; i < 100 && (await current.describe()).runId === watching.firstExecutionRunId; i++)
          await new Promise((r) => setTimeout(r, 200));
        expect((await current.describe()).runId).not.toBe(watching.firstExecutionRunId);
        await new Promise((r) => setTimeout(r, 1500));
        const killedAt = Date.now();
        await labKill(newPrimary, { dir: lab.dir });
        const survivor = newPrimary === 'db2' ? 'db3' : 'db2';
        let recovery;
        for (let i = 0; i < 100 && !recovery; i++) {
          await new Promise((r) => setTimeout(r, 200));
          const d = await client.workflow
            .getHandle(workflowIdFor('emergency-recovery', 'lab'))
            .describe()
            .catch(() => undefined);
          if (d && d.startTime.getTime() > killedAt) recovery = d;
        }
        expect(recovery).toBeDefined();
        const r = await client.workflow
          .getHandle<typeof emergencyRecovery>(recovery!.workflowId, recovery!.runId)
          .result();
        expect([r.outcome, r.primary, r.newPrimary]).toEqual(['recovered', newPrimary, survivor]);
        await client.workflow.getHandle(r.fenceWatch!).terminate('test over');
      } finally {
        await watching.terminate('test over');
      }
    });
  });
});
