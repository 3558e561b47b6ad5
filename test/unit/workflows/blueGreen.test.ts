// Blue/green upgrade with the real workflow code (and its real child runs: provisionReplica and
// plannedSuccessover, on the same worker) and the fake cluster's activities. Blue is db1; green is
// db3, already a healthy replica of it, unless a test says otherwise.
import { RUNBOOKS, type BlueGreenUpgradeInput } from '../../../domain/runbook';
import { blueGreenUpgrade } from '../../../workflows';
import {
  abortUpdate,
  approveUpdate,
  finalizeSignal,
  provisionWorkflowId,
  rollbackSignal,
  skipWindowUpdate,
  workflowIdFor,
} from '../../../workflows/api';
import { failureOf, waitForPhase, withWorker, type WorkerContext } from './env';
import { FakeCluster } from './fakeCluster';
import { windowAround } from './windows';

function start(ctx: WorkerContext, input: Partial<BlueGreenUpgradeInput> = {}) {
  return ctx.client.workflow.start(blueGreenUpgrade, {
    workflowId: workflowIdFor(RUNBOOKS.upgrade, ctx.fake.name),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, greenHost: 'db3', soakSeconds: 0, rollbackWindowSeconds: 60, ...input }],
  });
}

/** The successovers the run made, as primary → target. */
const switches = (fake: FakeCluster) =>
  fake.callsOf('runCriticalSection').map((c) => `${c.primary}→${c.target}`);

describe('blue/green upgrade', () => {
  test.concurrent(
    'approval, cutover, a rollback signal before the window is ignored, finalize keeps green',
    async () => {
      const fake = new FakeCluster();
      await withWorker(fake, async (ctx) => {
        const handle = await start(ctx, { requireApproval: true, waitTimeoutSeconds: 3 });
        await waitForPhase(handle, 'approval');
        expect(switches(fake)).toEqual([]);
        await handle.signal(rollbackSignal, { by: 'eve' });
        expect(await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] })).toBe(
          'approved by alice',
        );
        await waitForPhase(handle, 'rollback-window');
        // Cut over: green is the primary, blue replicates from it.
        expect(fake.writers()).toEqual(['db3']);
        expect(fake.node('db1').replication?.source).toBe('db3');
        await handle.signal(finalizeSignal, { by: 'carol' });
        const r = await handle.result();
        expect(r).toMatchObject({
          outcome: 'finalized',
          decidedBy: 'carol',
          blue: 'db1',
          green: 'db3',
          primary: 'db3',
          decommission: ['db1'],
          rollback: null,
          provisioning: 'db3 already replicates from db1: not provisioned again',
        });
        expect(r.cutover.workflowId).toBe(workflowIdFor(RUNBOOKS.planned, fake.name));
        expect(r.warnings).toContain('rollback by eve ignored: not in the rollback window');
        expect(switches(fake)).toEqual(['db1→db3']);
        expect(fake.callsOf('runCriticalSection')[0]).toMatchObject({ waitTimeoutSeconds: 3 });
        expect(r.timeline.find((s) => s.step === 'approval')).toMatchObject({ detail: 'approved by alice' });
        const child = await ctx.client.workflow.getHandle(r.cutover.workflowId).describe();
        expect(child.status.name).toBe('COMPLETED');
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent('rollback inside the window: a successover back to blue', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx);
      await waitForPhase(handle, 'rollback-window');
      await handle.signal(rollbackSignal, { by: 'dave', comment: 'app errors' });
      const r = await handle.result();
      expect(r).toMatchObject({
        outcome: 'rolled-back',
        decidedBy: 'dave',
        primary: 'db1',
        decommission: [],
      });
      expect(r.rollback?.workflowId).toBe(workflowIdFor(RUNBOOKS.planned, fake.name));
      expect(switches(fake)).toEqual(['db1→db3', 'db3→db1']);
      expect(fake.writers()).toEqual(['db1']);
      expect(fake.node('db3').replication?.source).toBe('db1');
      expect(fake.lock).toBeUndefined();
    });
  });

  test.concurrent(
    'the rollback window ends without a decision: green stays, blue is to decommission',
    async () => {
      const fake = new FakeCluster();
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { rollbackWindowSeconds: 1 })).result();
        expect(r).toMatchObject({ outcome: 'rollback-window-ended', primary: 'db3', decommission: ['db1'] });
        expect(r.decidedBy).toBeUndefined();
        expect(switches(fake)).toEqual(['db1→db3']);
        // Too late: the run is over, a rollback cannot reach it.
        await expect(
          ctx.client.workflow
            .getHandle(workflowIdFor(RUNBOOKS.upgrade, fake.name))
            .signal(rollbackSignal, { by: 'late' }),
        ).rejects.toThrow();
        expect(switches(fake)).toEqual(['db1→db3']);
      });
    },
  );

  test.concurrent('no rollback window (rollbackWindowSeconds 0): cut over and done', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { rollbackWindowSeconds: 0 })).result();
      expect(r).toMatchObject({ outcome: 'rollback-window-ended', primary: 'db3' });
      expect(switches(fake)).toEqual(['db1→db3']);
    });
  });

  test.concurrent('approval aborted: refused, green stays a replica, nothing cut over', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx, { requireApproval: true });
      await waitForPhase(handle, 'approval');
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob' }] });
      const f = await failureOf(handle);
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('cutover aborted by bob; db3 stays a replica of db1');
      expect(switches(fake)).toEqual([]);
      expect(fake.writers()).toEqual(['db1']);
    });
  });

  test.concurrent('approval timed out: refused, nothing cut over', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { requireApproval: true, approvalTimeoutSeconds: 1 }));
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('cutover not approved within 1 s; db3 stays a replica of db1');
      expect(switches(fake)).toEqual([]);
    });
  });

  test.concurrent('an empty green is provisioned first (child run), then cut over', async () => {
    const fake = new FakeCluster({ hosts: 4, empty: ['db4'] });
    await withWorker(fake, async (ctx) => {
      const r = await (
        await start(ctx, { greenHost: 'db4', rollbackWindowSeconds: 1, method: 'logical' })
      ).result();
      expect(r.provisioning).toBe(provisionWorkflowId(fake.name, 'db4'));
      expect(fake.callsOf('copyBackup')[0]).toMatchObject({ target: 'db4', method: 'logical' });
      const names = fake.names();
      expect(names.indexOf('startReplica')).toBeLessThan(names.indexOf('collectCompatFacts'));
      expect(switches(fake)).toEqual(['db1→db4']);
      expect(r.primary).toBe('db4');
    });
  });

  test.concurrent('green runs another version than the target: refused before the soak', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { targetVersion: '11.4' }));
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('green runs 10.11.6-MariaDB, not the target version 11.4');
      expect(fake.names('inspectCluster')).toHaveLength(1); // the preflight's discovery, no soak check
      expect(switches(fake)).toEqual([]);
    });
  });

  test.concurrent('green lags during the soak: SoakFailed, nothing cut over', async () => {
    const fake = new FakeCluster();
    fake.set('db3', { replication: { ...fake.node('db3').replication!, lagSeconds: 100 } });
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { soakMaxLagSeconds: 30 }));
      expect(f.type).toBe('SoakFailed');
      expect(f.message).toContain('db3 lags 100 s behind db1 (more than 30 s)');
      expect(f.message).toContain('db1 is still the primary');
      expect(switches(fake)).toEqual([]);
    });
  });

  test.concurrent('the cutover waits for its window; skipWindow starts it now', async () => {
    const fake = new FakeCluster();
    const window = windowAround(Date.now(), +120, +180);
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx, { window, rollbackWindowSeconds: 1 });
      const p = await waitForPhase(handle, 'waiting-for-window');
      expect(p.window).toMatchObject({ spec: window, waiting: true });
      expect(fake.names('inspectCluster').length).toBeGreaterThanOrEqual(2); // soaked before waiting
      expect(switches(fake)).toEqual([]);
      expect(await handle.executeUpdate(skipWindowUpdate, { args: [{ by: 'alice' }] })).toBe(
        'window skipped by alice: the cutover starts now',
      );
      const r = await handle.result();
      expect(switches(fake)).toEqual(['db1→db3']);
      expect(r.timeline.find((s) => s.step === 'wait for window')).toMatchObject({ status: 'skipped' });
    });
  });

  test.concurrent(
    'the cutover is refused (cluster locked by another run): the upgrade fails, blue stays the primary',
    async () => {
      const fake = new FakeCluster();
      const other = {
        workflowId: `emergency-recovery/${fake.name}`,
        runId: 'r-9',
        runbook: RUNBOOKS.emergency,
      };
      fake.lock = other;
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.chain[0]).toBe(`ChildWorkflowFailure(${workflowIdFor(RUNBOOKS.planned, fake.name)})`);
        expect(f.rootType).toBe('Refused');
        expect(f.rootMessage).toContain(other.workflowId);
        expect(switches(fake)).toEqual([]);
        expect(fake.writers()).toEqual(['db1']);
      });
    },
  );
});
