// Planned successover, every branch, with the real workflow code and the fake cluster's activities.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { createLockActivities } from '../../../activities/lock';
import { RUNBOOKS, type PlannedSuccessoverInput } from '../../../domain/runbook';
import { plannedSuccessover } from '../../../workflows';
import { lockWorkflowId, progressQuery, skipWindowUpdate, workflowIdFor } from '../../../workflows/api';
import { failureOf, rejection, until, waitForPhase, withWorker, type WorkerContext } from './env';
import { FakeCluster, nonRetryable } from './fakeCluster';
import { windowAround } from './windows';

function start(ctx: WorkerContext, input: Partial<PlannedSuccessoverInput> = {}) {
  return ctx.client.workflow.start(plannedSuccessover, {
    workflowId: workflowIdFor(RUNBOOKS.planned, ctx.fake.name),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, ...input }],
  });
}

/** The activities whose order is the runbook's. */
const KEY = [
  'acquireClusterLock',
  'loadClusterSpec',
  'inspectCluster',
  'longTransactions',
  'gtidPosition',
  'planSuccessover',
  'waitUntilApplied',
  'runCriticalSection',
  'compensateCriticalSection',
  'repoint',
  'releaseClusterLock',
] as const;

/** The activities that change the cluster (everything else only reads). */
const CHANGES = [
  'runCriticalSection',
  'compensateCriticalSection',
  'repoint',
  'promote',
  'attachTraffic',
] as const;

describe('planned successover', () => {
  test.concurrent(
    'a master-master pair: the standby keeps replicating, the old primary is its way back',
    async () => {
      const fake = new FakeCluster({ hosts: 2, pair: true });
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r).toMatchObject({ ok: true, primary: 'db1', target: 'db2', pair: true });
        expect(fake.callsOf('runCriticalSection')[0]).toMatchObject({ target: 'db2', keepReplication: true });
        expect(fake.callsOf('repoint')).toEqual([
          { cluster: fake.name, host: 'db1', source: 'db2', demote: true },
        ]);
        // Both directions replicate afterwards, and db2 is the one writer.
        expect(fake.node('db2')).toMatchObject({ readOnly: false, replication: { source: 'db1' } });
        expect(fake.node('db1')).toMatchObject({ readOnly: true, replication: { source: 'db2' } });
      });
    },
  );

  test.concurrent(
    'success: catch up, critical section, repoint the others and the old primary, verify, unlock',
    async () => {
      const fake = new FakeCluster();
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { target: 'db2', waitTimeoutSeconds: 7 })).result();
        expect(r).toMatchObject({
          ok: true,
          cluster: fake.name,
          primary: 'db1',
          target: 'db2',
          dryRun: false,
        });
        // What the critical section reported reaches the result.
        expect(r.blackoutMs).toBe(42);
        expect(r.plan).toEqual([{ step: 'promote', on: 'db2', command: 'SET GLOBAL read_only = OFF' }]);
        // The runbook's order: lock, read, catch up, switch, repoint, verify, unlock (other
        // activities, e.g. persisting read_only, may come between these).
        // Reads of the primary run together, as do the plan and the catch-up: either may be first.
        const names = fake.names(...KEY);
        const together = (a: string, b: string) => {
          const i = names.indexOf(a);
          const j = names.indexOf(b);
          expect(Math.abs(i - j)).toBe(1);
          names.splice(Math.min(i, j), 2, `${a} | ${b}`);
        };
        together('longTransactions', 'gtidPosition');
        together('planSuccessover', 'waitUntilApplied');
        expect(names).toEqual([
          'acquireClusterLock',
          'loadClusterSpec',
          'inspectCluster',
          'longTransactions | gtidPosition',
          // The catch-up waits for the position the preflight read: no second read.
          'planSuccessover | waitUntilApplied',
          'runCriticalSection',
          'repoint',
          'repoint',
          'inspectCluster',
          'releaseClusterLock',
        ]);
        expect(fake.callsOf('waitUntilApplied')).toEqual([
          { cluster: fake.name, host: 'db2', position: '0-1-100', timeoutSeconds: 7 },
        ]);
        expect(fake.callsOf('runCriticalSection')).toEqual([
          {
            cluster: fake.name,
            primary: 'db1',
            target: 'db2',
            waitTimeoutSeconds: 7,
            readOnlyTimeoutSeconds: 5,
            killIntervalMs: 100,
            keepReplication: false,
          },
        ]);
        // The old primary is demoted, the other replica only repointed; never the target itself.
        expect(fake.callsOf('repoint').sort((a, b) => a.host.localeCompare(b.host))).toEqual([
          { cluster: fake.name, host: 'db1', source: 'db2', demote: true },
          { cluster: fake.name, host: 'db3', source: 'db2', demote: false },
        ]);
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.node('db1').replication?.source).toBe('db2');
        expect(fake.lock).toBeUndefined();
        // The timeline holds the critical section's own steps between catch-up and repoint.
        const steps = r.timeline.map((s) => s.step);
        expect(steps.indexOf('catch up')).toBeLessThan(steps.indexOf('promote'));
        expect(steps.indexOf('promote')).toBeLessThan(steps.indexOf('repoint'));
        expect(r.timeline.every((s) => s.status === 'done')).toBe(true);
        expect(ctx.runs.filter((x) => x.event === 'ended')).toMatchObject([
          { runbook: RUNBOOKS.planned, cluster: fake.name, outcome: 'completed' },
        ]);
        const described = await ctx.client.workflow
          .getHandle(workflowIdFor(RUNBOOKS.planned, fake.name))
          .describe();
        expect(described.searchAttributes).toMatchObject({
          Cluster: [fake.name],
          Runbook: [RUNBOOKS.planned],
          RunbookPhase: ['done'],
        });
      });
    },
  );

  test.concurrent(
    'no target given: the best-ranked replica is promoted (promotion rule prefer)',
    async () => {
      const fake = new FakeCluster({ hostFields: { db3: { promotion: 'prefer' } } });
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r.target).toBe('db3');
        expect(fake.callsOf('runCriticalSection')[0]).toMatchObject({ primary: 'db1', target: 'db3' });
        expect(fake.writers()).toEqual(['db3']);
      });
    },
  );

  test.concurrent('dry run: returns the plan, changes nothing, unlocks', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { target: 'db2', dryRun: true })).result();
      expect(r).toMatchObject({ dryRun: true, blackoutMs: null, primary: 'db1', target: 'db2' });
      expect(r.plan).toEqual(fake.callsOf('planSuccessover').length ? r.plan : []);
      expect(r.plan.map((p) => p.step)).toEqual(['read-only', 'promote']);
      expect(fake.names(...CHANGES, 'waitUntilApplied')).toEqual([]);
      expect(fake.writers()).toEqual(['db1']);
      expect(fake.names(...KEY).at(-1)).toBe('releaseClusterLock');
      expect(fake.lock).toBeUndefined();
    });
  });

  test.concurrent(
    'refused by the preflight (target lags): every reason, nothing changed, unlocked',
    async () => {
      const fake = new FakeCluster();
      fake.set('db2', { replication: { ...fake.node('db2').replication!, lagSeconds: 120 } });
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { target: 'db2', maxLagSeconds: 5 }));
        expect(f.type).toBe('Refused');
        expect(f.message).toMatch(
          new RegExp(`^planned-successover on ${fake.name} refused, nothing was changed: `),
        );
        expect(f.message).toMatch(/db2.*120.*force overrides this check/);
        expect(fake.names('planSuccessover', ...CHANGES)).toEqual([]);
        expect(fake.names(...KEY).at(-1)).toBe('releaseClusterLock');
        expect(fake.lock).toBeUndefined();
        expect(ctx.runs.find((x) => x.event === 'ended')?.outcome).toBe('refused');
      });
    },
  );

  test.concurrent('force overrides the lag check, and the run says it was forced', async () => {
    const fake = new FakeCluster();
    fake.set('db2', { replication: { ...fake.node('db2').replication!, lagSeconds: 120 } });
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { target: 'db2', maxLagSeconds: 5, force: true })).result();
      expect(r.forced.join(' ')).toMatch(/db2.*120/);
      expect(fake.writers()).toEqual(['db2']);
    });
  });

  test.concurrent('errant GTIDs on the target refuse even with force', async () => {
    const fake = new FakeCluster();
    fake.set('db2', { gtidExecuted: '0-1-100,1-2-5', gtidHistory: '0-1-100,1-2-5' });
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { target: 'db2', force: true }));
      expect(f.type).toBe('Refused');
      expect(f.message).toMatch(/errant/i);
      expect(f.message).toContain('1-2-5');
      expect(fake.names(...CHANGES)).toEqual([]);
      expect(fake.lock).toBeUndefined();
    });
  });

  test.concurrent(
    'wait times out inside the critical section: compensated, old primary writable again, unlocked',
    async () => {
      const fake = new FakeCluster();
      fake.mocks.runCriticalSection = ({ primary, target, waitTimeoutSeconds }, f) => {
        // The blackout had begun: the old primary read-only, the traffic gone from it.
        f.set(primary, { readOnly: true });
        f.traffic = [];
        throw nonRetryable(
          'Timeout',
          `${target} did not apply ${primary}'s final position 0-1-100 within ${waitTimeoutSeconds} s`,
          { promoted: false },
        );
      };
      await withWorker(fake, async (ctx) => {
        const handle = await start(ctx, { target: 'db2', waitTimeoutSeconds: 1 });
        const f = await failureOf(handle);
        expect(f.type).toBe('Compensated');
        expect(f.message).toBe(
          `planned successover db1 → db2 on ${fake.name} failed before promotion and was undone (db1 is writable again): db2 did not apply db1's final position 0-1-100 within 1 s`,
        );
        expect(fake.callsOf('compensateCriticalSection')).toEqual([
          { cluster: fake.name, primary: 'db1', target: 'db2' },
        ]);
        expect(fake.names(...KEY).slice(-3)).toEqual([
          'runCriticalSection',
          'compensateCriticalSection',
          'releaseClusterLock',
        ]);
        expect(fake.names('repoint')).toEqual([]);
        // Back as it was.
        expect(fake.writers()).toEqual(['db1']);
        expect(fake.traffic).toEqual(['db1']);
        expect(fake.node('db2').replication?.source).toBe('db1');
        expect(fake.lock).toBeUndefined();
        const p = await handle.query(progressQuery);
        expect(p.phase).toBe('compensate');
        expect(p.timeline.find((s) => s.step === 'compensate')).toMatchObject({
          status: 'done',
          host: 'db1',
        });
        expect(ctx.runs.find((x) => x.event === 'ended')?.outcome).toBe('failed');
      });
    },
  );

  test.concurrent(
    'failure after the promotion: not undone, the state is named, unlocked; the same request again finishes it',
    async () => {
      const fake = new FakeCluster();
      fake.mocks.runCriticalSection = ({ primary, target }, f) => {
        f.set(primary, { readOnly: true });
        f.set(target, { replication: null, readOnly: false }); // promoted: the point of no return
        throw nonRetryable('Unreachable', `traffic to target ${target}: ssh ${target}: connection reset`);
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { target: 'db2' }));
        expect(f.type).toBe('Unfinished');
        expect(f.message).toBe(
          `planned successover db1 → db2 on ${fake.name} failed after its point of no return (traffic to target db2: ssh db2: connection reset): db2 promoted and writable; writer traffic not on db2 but still on db1; db1 not repointed (replicates from no one); db3 not repointed (replicates from db1); start it again with target db2 to finish it`,
        );
        expect(f.chain.slice(0, 2)).toEqual([
          'ApplicationFailure(Unfinished)',
          'ActivityFailure(runCriticalSection)',
        ]);
        expect(f.rootType).toBe('Unreachable');
        expect(fake.names('compensateCriticalSection')).toEqual(['compensateCriticalSection']);
        // Rolled forward only: the old primary stays read-only, the target stays writable.
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.names('repoint')).toEqual([]);
        expect(fake.lock).toBeUndefined();

        // The same request again: no second critical section, traffic moved, both repointed.
        delete fake.mocks.runCriticalSection;
        const r = await (await start(ctx, { target: 'db2' })).result();
        expect(r.warnings[0]).toMatch(
          /^finished an earlier successover to db2 that stopped after its point of no return/,
        );
        expect(fake.names('runCriticalSection')).toHaveLength(1); // the first run's only
        expect(fake.traffic).toEqual(['db2']);
        expect(fake.callsOf('repoint').map((c) => [c.host, c.source, c.demote])).toEqual(
          expect.arrayContaining([
            ['db1', 'db2', true],
            ['db3', 'db2', false],
          ]),
        );
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent(
    'a repoint fails after the critical section: the run fails, nothing is compensated, unlocked',
    async () => {
      const fake = new FakeCluster();
      fake.mocks.repoint = ({ host }) => {
        if (host === 'db3') throw nonRetryable('SqlError', 'repoint to db2 on db3: Unknown system variable');
        return { host, changed: true, statements: [] };
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { target: 'db2' }));
        expect(f.type).toBe('Unfinished');
        expect(f.message).toMatch(/db3 not repointed/);
        expect(f.chain[1]).toBe('ActivityFailure(repoint)');
        expect(f.rootType).toBe('SqlError');
        expect(fake.names('compensateCriticalSection')).toEqual([]);
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent(
    'the cluster is locked by another run: refused naming it, nothing read, the other keeps the lock',
    async () => {
      const fake = new FakeCluster();
      const other = {
        workflowId: `emergency-recovery/${fake.name}`,
        runId: randomUUID(),
        runbook: RUNBOOKS.emergency,
      };
      fake.lock = other;
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { target: 'db2' }));
        // A refusal like the preflight's (its type, its metrics), naming the holder.
        expect(f.type).toBe('Refused');
        expect(f.message).toContain(
          `is locked by ${RUNBOOKS.emergency} ${other.workflowId} (run ${other.runId})`,
        );
        expect(ctx.runs.find((x) => x.event === 'ended')?.outcome).toBe('refused');
        expect(fake.names()).toEqual(['acquireClusterLock']); // nothing read, nothing changed
        expect(fake.lock).toBe(other);
      });
    },
  );

  test.concurrent(
    'with the real lock activities: a second run is refused while the first holds the lock, which it releases',
    async () => {
      const fake = new FakeCluster();
      let lock: ReturnType<typeof createLockActivities> | undefined;
      fake.mocks.acquireClusterLock = (a) => lock!.acquireClusterLock(a);
      fake.mocks.releaseClusterLock = (a) => lock!.releaseClusterLock(a);
      let letGo!: () => void;
      const held = new Promise<void>((r) => (letGo = r));
      fake.mocks.waitUntilApplied = async () => {
        await held;
        return 'reached' as const;
      };
      await withWorker(fake, async (ctx) => {
        lock = createLockActivities({ client: ctx.client as Client, taskQueue: ctx.taskQueue });
        const first = await start(ctx, { target: 'db2' });
        await waitForPhase(first, 'catch-up');
        const second = await ctx.client.workflow.start(plannedSuccessover, {
          workflowId: `second-${fake.name}`,
          taskQueue: ctx.taskQueue,
          args: [{ cluster: fake.name, target: 'db3' }],
        });
        try {
          const f = await failureOf(second);
          expect(f.rootType).toBe('Refused');
          expect(f.rootMessage).toContain(
            `locked by ${RUNBOOKS.planned} ${first.workflowId} (run ${first.firstExecutionRunId})`,
          );
        } finally {
          letGo();
        }
        await first.result();
        // The release is a signal: the lock's run ends in its next task, a moment after the
        // holder's result (an acquirer meanwhile finds the holder ended and takes the lock over).
        const lockRun = ctx.client.workflow.getHandle(lockWorkflowId(fake.name));
        let status = (await lockRun.describe()).status.name;
        for (let i = 0; i < 100 && status === 'RUNNING'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          status = (await lockRun.describe()).status.name;
        }
        expect(status).toBe('COMPLETED');
        expect(fake.callsOf('runCriticalSection').map((c) => c.target)).toEqual(['db2']);
      });
    },
  );

  test.concurrent('outside its window: waits without the lock until skipWindow, then runs', async () => {
    const fake = new FakeCluster();
    const window = windowAround(Date.now(), +120, +180); // opens in two hours
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx, { target: 'db2', window });
      const waiting = await waitForPhase(handle, 'waiting-for-window');
      expect(waiting.window).toMatchObject({ spec: window, waiting: true });
      expect(Date.parse(waiting.window!.opensAt)).toBeGreaterThan(Date.now() + 3600_000);
      // Waiting blocks nobody: not even the lock was taken.
      expect(fake.calls).toEqual([]);
      const answer = await handle.executeUpdate(skipWindowUpdate, {
        args: [{ by: 'alice', comment: 'urgent' }],
      });
      expect(answer).toBe('window skipped by alice: the successover starts now');
      const r = await handle.result();
      expect(r.target).toBe('db2');
      expect(r.timeline[0]).toMatchObject({ step: 'wait for window', status: 'skipped' });
      expect(r.timeline[0].detail).toContain('skipped by alice: urgent');
      expect(fake.names()[0]).toBe('acquireClusterLock');
    });
  });

  test.concurrent('inside its window: runs at once, the timeline says so', async () => {
    const fake = new FakeCluster();
    const window = windowAround(Date.now(), -60, +60);
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { target: 'db2', window })).result();
      expect(r.timeline[0]).toMatchObject({ step: 'window', status: 'done' });
      expect(r.timeline[0].detail).toContain(`inside the window ${window}`);
    });
  });

  test.concurrent('skipWindow on a run without a window is rejected', async () => {
    const fake = new FakeCluster();
    let letGo!: () => void;
    const held = new Promise<void>((r) => (letGo = r));
    fake.mocks.waitUntilApplied = async () => {
      await held;
      return 'reached' as const;
    };
    await withWorker(fake, async (ctx) => {
      const handle = await start(ctx, { target: 'db2' });
      await waitForPhase(handle, 'catch-up');
      try {
        expect(await rejection(handle.executeUpdate(skipWindowUpdate, { args: [{}] }))).toBe(
          'this run has no window to skip',
        );
      } finally {
        letGo();
      }
      await handle.result();
      await until('unlocked', () => fake.lock === undefined);
    });
  });
});
