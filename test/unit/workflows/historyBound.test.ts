// The loops that continue as new (workflows/historyBound.ts), each with a threshold of one event,
// so every round is its own run: what a run carries to the next (the detector's failures in a row,
// the catch-up's polls, primary and failures, the soak's checks) must survive every hand-over.
import type { ApplicationFailure } from '@temporalio/common';
import { blueGreenSoak, detector, provisionCatchUp } from '../../../workflows';
import { detectorId, provisionWorkflowId, workflowIdFor } from '../../../workflows/api';
import { RUNBOOKS } from '../../../domain/runbook';
import { failureOf, until, withWorker, type WorkerContext } from './env';
import { FakeCluster, nonRetryable } from './fakeCluster';

/** Every round continues as new. */
const EVERY_ROUND = 1;

const progress = (lagSeconds: number, gtidDistance: number) => ({
  ioRunning: 'yes',
  sqlRunning: true,
  lastError: null,
  lagSeconds,
  gtidDistance,
});

describe('detector across continue-as-new', () => {
  test.concurrent('failed probes in a row count across runs: the third starts the recovery', async () => {
    const fake = new FakeCluster();
    fake.mocks.probePrimary = () => [{ ok: false, at: new Date().toISOString(), error: 'ETIMEDOUT' }];
    fake.mocks.startRecovery = () => ({ workflowId: 'recovery', runId: 'r-1', started: true });
    await withWorker(fake, async (ctx) => {
      const handle = await ctx.client.workflow.start(detector, {
        workflowId: detectorId(fake.name),
        taskQueue: ctx.taskQueue,
        args: [
          {
            cluster: fake.name,
            intervalSeconds: 0.05,
            probes: 3,
            cooldownSeconds: 600,
            watchSeconds: 0.01, // one probe per watch, one watch per run
            continueAsNewAfterEvents: EVERY_ROUND,
          },
        ],
      });
      try {
        await until('a recovery started', () => fake.called('startRecovery'), 20_000);
        // Before the fix each run started at 0 failures: one probe per run never reached 3.
        expect(fake.callsOf('probePrimary')).toHaveLength(3);
        expect(fake.callsOf('loadClusterSpec').length).toBeGreaterThanOrEqual(3); // one per run
        expect(fake.callsOf('startRecovery')[0].reason).toMatch(/^detector: db1 failed 3 probes in a row/);
        const latest = await handle.describe();
        expect(latest.runId).not.toBe(handle.firstExecutionRunId);
      } finally {
        await handle.terminate('test over');
      }
    });
  });
});

describe('provision catch-up across continue-as-new', () => {
  const start = (fake: FakeCluster, ctx: WorkerContext) =>
    ctx.client.workflow.start(provisionCatchUp, {
      workflowId: `${provisionWorkflowId(fake.name, 'db3')}/catch-up`,
      taskQueue: ctx.taskQueue,
      args: [
        {
          cluster: fake.name,
          host: 'db3',
          primary: 'db1',
          maxLagSeconds: 1,
          deadlineIso: new Date(Date.now() + 20_000).toISOString(),
          timeoutSeconds: 20,
          pollMs: 50,
          continueAsNewAfterEvents: EVERY_ROUND,
        },
      ],
    });

  test.concurrent('polls, the primary it moved to and the last progress are carried', async () => {
    const fake = new FakeCluster();
    let n = 0;
    fake.mocks.replicationProgress = (_, f) => {
      n++;
      if (n === 1) {
        // A recovery moved the primary while the poll failed: the next runs poll db2.
        f.kill('db1');
        f.set('db2', { readOnly: false, replication: null });
        throw nonRetryable('Unreachable', 'db1 does not answer');
      }
      return n < 4 ? progress(30, 5) : progress(0, 0);
    };
    await withWorker(fake, async (ctx) => {
      const handle = await start(fake, ctx);
      const r = await handle.result();
      expect(r).toMatchObject({ primary: 'db2', polls: 4, runs: 4, progress: { lagSeconds: 0 } });
      expect(fake.callsOf('replicationProgress').map((c) => c.primary)).toEqual(['db1', 'db2', 'db2', 'db2']);
    });
  });

  test.concurrent('failed polls in a row count across runs: the third fails the catch-up', async () => {
    const fake = new FakeCluster();
    fake.mocks.replicationProgress = () => {
      throw nonRetryable('Unreachable', 'db3 does not answer');
    };
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(fake, ctx));
      // Without the carried count each run starts at 0 and it polls on until the deadline.
      expect(f.rootType).toBe('Unreachable');
      expect(fake.callsOf('replicationProgress')).toHaveLength(3);
    });
  });
});

describe('blue/green soak across continue-as-new', () => {
  const soak = (fake: FakeCluster, ctx: WorkerContext, ms: number) =>
    ctx.client.workflow.start(blueGreenSoak, {
      workflowId: `${workflowIdFor(RUNBOOKS.upgrade, fake.name)}/soak`,
      taskQueue: ctx.taskQueue,
      args: [
        {
          cluster: fake.name,
          blue: 'db1',
          green: 'db3',
          untilIso: new Date(Date.now() + ms).toISOString(),
          checkMs: 200,
          maxLagSeconds: 30,
          continueAsNewAfterEvents: EVERY_ROUND,
        },
      ],
    });

  test.concurrent('the count of checks is carried to the end of the soak', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      // Long enough that a busy worker picking the run up late still checks more than once.
      const r = await (await soak(fake, ctx, 4000)).result();
      expect(r.checks).toBe(fake.callsOf('inspectCluster').length);
      expect(r.checks).toBeGreaterThanOrEqual(3);
      expect(r.runs).toBe(r.checks); // one check per run
    });
  });

  test.concurrent('green lags after three checks: SoakFailed, the checks of every run counted', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const handle = await soak(fake, ctx, 60_000);
      await until('three checks', () => fake.callsOf('inspectCluster').length >= 3);
      fake.set('db3', { replication: { ...fake.node('db3').replication!, lagSeconds: 100 } });
      const f = await failureOf(handle);
      expect(f.type).toBe('SoakFailed');
      expect(f.message).toContain('db3 lags 100 s behind db1');
      const checks = fake.callsOf('inspectCluster').length;
      expect(checks).toBeGreaterThanOrEqual(4);
      expect((f.failure as ApplicationFailure).details).toEqual([{ checks }]);
    });
  });
});
