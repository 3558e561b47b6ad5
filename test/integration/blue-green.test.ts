// The blue/green upgrade end to end on a netns lab: an empty db4 is provisioned as green (child
// provisionReplica), soaked, cut over to (child plannedSuccessover) under write load, and rolled
// back by signal; a second run keeps the already replicating green and lets the rollback window
// end. Only one MariaDB version is installable here, so blue and green run the same one.
import type { Client } from '@temporalio/client';
import { Writer } from '../../bench/writer';
import { labAddHost } from '../../lab/addHost';
import { RUNBOOKS, type BlueGreenUpgradeInput, type BlueGreenUpgradeResult } from '../../domain/runbook';
import { blueGreenUpgrade } from '../../workflows';
import {
  finalizeSignal,
  progressQuery,
  rollbackSignal,
  workflowIdFor,
  type Progress,
} from '../../workflows/api';
import type { LabInfo } from '../../lab/index';
import { expectHealthy } from './clusterSnapshot';
import { rootConnection, startLab, type LabFixture } from './labFixture';
import { testClient, withWorker } from './temporal';

let lab: LabFixture;
/** The lab with db4. */
let info: LabInfo;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
  const db4 = await labAddHost('db4', { dir: lab.dir });
  info = { ...lab.info, hosts: [...lab.info.hosts, db4] };
});
afterAll(async () => {
  await lab?.down();
});
// A failed test must not leave its run waiting in the rollback window for the next one.
afterEach(async () => {
  const handle = (await testClient()).workflow.getHandle(workflowId);
  if ((await handle.describe().catch(() => undefined))?.status.name === 'RUNNING')
    await handle.terminate('test over');
});

const workflowId = workflowIdFor(RUNBOOKS.upgrade, 'lab');

const start = (client: Client, taskQueue: string, input: BlueGreenUpgradeInput) =>
  client.workflow.start(blueGreenUpgrade, { taskQueue, workflowId, args: [input] });

async function waitForPhase(client: Client, phase: string, timeoutMs = 240_000): Promise<Progress> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.phase === phase) return p;
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING')
      throw new Error(`the run ended (${d.status.name}) before phase ${phase}`);
    if (Date.now() > deadline) throw new Error(`phase ${phase} not reached; now ${p?.phase}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('blue/green upgrade on the netns lab', () => {
  test('a green running another version than asked is refused before anything changes', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, {
        cluster: 'lab',
        greenHost: 'db3',
        targetVersion: '99.1',
      });
      await expect(handle.result()).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/not the target version 99.1/) },
      });
      await expectHealthy(lab, 'db1', { info, unprovisioned: ['db4'] });
    });
  });

  test('provision db4, soak, cut over under load, roll back by signal; no acknowledged write lost', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const w = Writer.forLab(lab.info);
      await w.start();
      let r: BlueGreenUpgradeResult;
      try {
        const handle = await start(client, taskQueue, {
          cluster: 'lab',
          greenHost: 'db4',
          targetVersion: '10.11',
          soakSeconds: 3,
          soakCheckSeconds: 1,
          rollbackWindowSeconds: 300,
        });
        // A rollback before the cutover is recorded and ignored.
        await waitForPhase(client, 'soak');
        await handle.signal(rollbackSignal, { by: 'early-bird' });
        const p = await waitForPhase(client, 'rollback-window');
        expect(p.timeline.map((s) => s.step)).toEqual(
          expect.arrayContaining(['provision green', 'collect compatibility facts', 'soak check', 'cutover']),
        );
        await expectHealthy(lab, 'db4', { info });
        await handle.signal(rollbackSignal, { by: 'tester', comment: 'test' });
        r = await handle.result();
      } finally {
        await w.stop();
      }
      expect(r.outcome).toBe('rolled-back');
      expect(r.decidedBy).toBe('tester');
      expect([r.blue, r.green, r.primary]).toEqual(['db1', 'db4', 'db1']);
      expect(r.provisioning).toBe('provision-replica/lab/db4');
      expect(r.findings.filter((f) => f.severity === 'blocking')).toEqual([]);
      expect(r.cutover.blackoutMs).toBeLessThan(5000);
      expect(r.rollback?.blackoutMs).toBeLessThan(5000);
      expect(r.decommission).toEqual([]);
      expect(r.warnings).toEqual(
        expect.arrayContaining([expect.stringMatching(/rollback by early-bird ignored/)]),
      );
      await expectHealthy(lab, 'db1', { info });
      const c = await rootConnection(info, 'db1');
      try {
        expect(await w.lost(c)).toEqual([]);
      } finally {
        c.destroy();
      }
      expect(w.acked.length).toBeGreaterThan(100);
    });
  });

  test('green already replicating is kept; finalize ends the rollback window and flags blue', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, {
        cluster: 'lab',
        greenHost: 'db4',
        soakSeconds: 0,
        rollbackWindowSeconds: 300,
      });
      await waitForPhase(client, 'rollback-window');
      await handle.signal(finalizeSignal, { by: 'tester' });
      const r = await handle.result();
      expect(r.outcome).toBe('finalized');
      expect(r.provisioning).toMatch(/already replicates from db1: not provisioned again/);
      expect(r.primary).toBe('db4');
      expect(r.decommission).toEqual(['db1']);
      await expectHealthy(lab, 'db4', { info });
    });
  });
});
