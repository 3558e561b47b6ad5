// The planned successover end to end: a real netns lab (MariaDB with GTIDs, sshd with pinned
// keys, a VIP with gratuitous ARP), a real Temporal dev server and worker, and a writer
// committing through the VIP on an account read_only stops.
import { readFileSync } from 'node:fs';
import { Writer } from '../../bench/writer';
import type { PlannedSuccessoverResult } from '../../domain/runbook';
import { lockWorkflowId } from '../../workflows/api';
import { clusterLock, topology } from '../../workflows';
import { clusterSnapshot, expectHealthy, planned, refusal } from './clusterSnapshot';
import { query, rootConnection, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await lab?.down();
});

const snapshot = () => clusterSnapshot(lab);

function writer(): Writer {
  const { info } = lab;
  return Writer.forLab(info);
}

describe('planned successover on the netns lab', () => {
  test('the topology workflow sees the lab as it is', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const r = await client.workflow.execute(topology, {
        taskQueue,
        workflowId: `topology/lab/${taskQueue}`,
        args: [{ cluster: 'lab' }],
      });
      expect(r.trafficHolders).toEqual(['db1']);
      expect(r.view.map((n) => [n.name, n.role, n.readOnly, n.source, n.ioRunning, n.sqlRunning])).toEqual([
        ['db1', 'primary', false, null, null, null],
        ['db2', 'replica', true, 'db1', 'yes', true],
        ['db3', 'replica', true, 'db1', 'yes', true],
      ]);
      expect(r.view[0].version).toMatch(/MariaDB/);
      expect(r.view[1].gtid).toMatch(/^0-1-\d+$/);
    });
  });

  test('dry run returns the plan and changes nothing', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const before = await snapshot();
      const r = await planned(client, taskQueue, { cluster: 'lab', target: 'db2', dryRun: true });
      expect(r.dryRun).toBe(true);
      expect(r.blackoutMs).toBeNull();
      const text = r.plan.map((c) => `${c.on}: ${c.command}`).join('\n');
      expect(text).toMatch(/sql db1: SET STATEMENT .*read_only/i);
      expect(text).toMatch(/sql db2: .*MASTER_GTID_WAIT/i);
      expect(text).toMatch(/ssh db2: .*ip addr add/);
      expect(text).toMatch(/MASTER_PASSWORD='\*\*\*'/);
      expect(text).not.toContain(readFileSync(lab.info.secrets.replicationPasswordFile, 'utf8').trim());
      expect(await snapshot()).toEqual(before);
    });
  });

  test('refusals leave the cluster exactly as it was', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const before = await snapshot();
      expect(await refusal(client, taskQueue, { cluster: 'lab', target: 'db1' })).toMatch(
        /db1 is already the primary/,
      );
      expect(await refusal(client, taskQueue, { cluster: 'lab', target: 'db9' })).toMatch(
        /unknown target "db9": cluster lab has db1, db2, db3/,
      );
      expect(
        await refusal(client, taskQueue, { cluster: 'lab', target: 'db2', waitTimeoutSeconds: -1 }),
      ).toMatch(/invalid planned-successover input: waitTimeoutSeconds/);

      // Target's replication stopped.
      await query(lab.info, 'db3', 'STOP SLAVE SQL_THREAD');
      try {
        expect(await refusal(client, taskQueue, { cluster: 'lab', target: 'db3' })).toMatch(
          /db3's SQL thread is stopped/,
        );
      } finally {
        await query(lab.info, 'db3', 'START SLAVE SQL_THREAD');
      }

      // Two writable nodes: refused even with force.
      await query(lab.info, 'db3', 'SET GLOBAL read_only = 0');
      try {
        expect(await refusal(client, taskQueue, { cluster: 'lab', target: 'db2', force: true })).toMatch(
          /2 writable nodes \(db1, db3\)/,
        );
      } finally {
        await query(lab.info, 'db3', 'SET GLOBAL read_only = 1');
      }

      // A second runbook while another holds the cluster lock.
      const holder = await client.workflow.start(clusterLock, {
        taskQueue,
        workflowId: lockWorkflowId('elsewhere'),
        args: [{ cluster: 'elsewhere', holder: { workflowId: 'x', runId: 'y', runbook: 'test' } }],
      });
      const lock = await client.workflow.start(clusterLock, {
        taskQueue,
        workflowId: lockWorkflowId('lab'),
        args: [
          {
            cluster: 'lab',
            holder: {
              workflowId: holder.workflowId,
              runId: holder.firstExecutionRunId,
              runbook: 'emergency-recovery',
            },
          },
        ],
        memo: {
          holder: {
            workflowId: holder.workflowId,
            runId: holder.firstExecutionRunId,
            runbook: 'emergency-recovery',
          },
        },
      });
      try {
        expect(await refusal(client, taskQueue, { cluster: 'lab', target: 'db2' })).toMatch(
          new RegExp(
            `cluster lab is locked by emergency-recovery cluster-lock/elsewhere \\(run ${holder.firstExecutionRunId}\\)`,
          ),
        );
      } finally {
        await lock.terminate('test done');
        await holder.terminate('test done');
      }
      await new Promise((r) => setTimeout(r, 1500)); // replicas restarted above settle
      expect(await snapshot()).toEqual(before);
    });
  });

  test('a failure before promotion is compensated: the old primary takes writes again', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const before = await snapshot();
      const w = writer();
      await w.start();
      process.env.SUCCESSOVER_FAILPOINTS = 'critical:final position=fail';
      let message: string;
      try {
        message = await refusal(client, taskQueue, { cluster: 'lab', target: 'db2' });
      } finally {
        delete process.env.SUCCESSOVER_FAILPOINTS;
      }
      const failedAt = Date.now();
      await new Promise((r) => setTimeout(r, 700));
      await w.stop();
      expect(message).toMatch(/failed before promotion and was undone \(db1 is writable again\)/);
      expect(w.acked.filter((a) => a.at > failedAt).length).toBeGreaterThan(10);
      expect(await snapshot()).toEqual(before);
      const c = await rootConnection(lab.info, 'db1');
      try {
        expect(await w.lost(c)).toEqual([]);
      } finally {
        c.destroy();
      }
    });
  });

  test('db1 → db2 → db1 under write load: no acknowledged write lost, invariants hold', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const w = writer();
      await w.start();
      let there: PlannedSuccessoverResult;
      let back: PlannedSuccessoverResult;
      try {
        await new Promise((r) => setTimeout(r, 500));
        there = await planned(client, taskQueue, { cluster: 'lab', target: 'db2' });
        await expectHealthy(lab, 'db2');
        await new Promise((r) => setTimeout(r, 500));
        back = await planned(client, taskQueue, { cluster: 'lab' }); // ranking picks a replica
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await w.stop();
      }
      const newPrimary = back.target;
      console.log(
        `planned successover: blackout ${there.blackoutMs} ms and ${back.blackoutMs} ms; longest client gap ${w.maxGapMs()} ms; ${w.acked.length} acknowledged writes, ${w.errors} failed attempts`,
      );
      await expectHealthy(lab, newPrimary);
      expect(there.primary).toBe('db1');
      expect(back.primary).toBe('db2');
      // Generous sanity bounds, not timing assertions: the bench measures.
      expect(there.blackoutMs).toBeLessThan(5000);
      expect(back.blackoutMs).toBeLessThan(5000);
      expect(there.timeline.map((s) => s.step)).toEqual(
        expect.arrayContaining([
          'lock',
          'discover',
          'catch up',
          'read-only',
          'promote',
          'traffic to target',
          'repoint',
          'verify invariants',
        ]),
      );
      for (const r of [there, back]) expectTrafficBesideTheWait(r);
      expect(w.acked.length).toBeGreaterThan(100);
      const c = await rootConnection(lab.info, newPrimary);
      try {
        expect(await w.lost(c)).toEqual([]);
      } finally {
        c.destroy();
      }
    });
  });
});

/**
 * The VIP moves to the (read-only) target beside the kill loop, the final position and the wait,
 * not after them, and the promotion waits for both (README, "Critical section").
 */
function expectTrafficBesideTheWait(r: PlannedSuccessoverResult): void {
  const at = (step: string, edge: 'start' | 'end') => {
    const s = r.timeline.find((t) => t.step === step);
    if (!s?.[edge]) throw new Error(`no ${edge} for "${step}" in ${JSON.stringify(r.timeline)}`);
    return Date.parse(s[edge]);
  };
  expect(at('traffic to target', 'start')).toBeGreaterThanOrEqual(at('read-only', 'end'));
  expect(at('traffic to target', 'start')).toBeLessThanOrEqual(at('kill loop started', 'start'));
  expect(at('promote', 'start')).toBeGreaterThanOrEqual(at('traffic to target', 'end'));
  expect(at('promote', 'start')).toBeGreaterThanOrEqual(at('wait for target', 'end'));
}
