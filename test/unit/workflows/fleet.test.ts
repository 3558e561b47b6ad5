// Fleets with the real workflow code: the fleet's first step over an inventory of fake clusters,
// and each cluster's planned successover as a real child run on its FakeCluster.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { FleetInput } from '../../../domain/fleet/input';
import { findFleet } from '../../../cli/commands/fleet';
import { RUNBOOKS } from '../../../domain/runbook';
import { fleet, plannedSuccessover } from '../../../workflows';
import {
  abortUpdate,
  fleetProgressQuery,
  pauseUpdate,
  resumeUpdate,
  workflowIdFor,
  type FleetProgress,
  type FleetResult,
} from '../../../workflows/api';
import { failureOf, rejection, until } from './env';
import { FakeCluster, nonRetryable } from './fakeCluster';
import { gate, withFleetWorker, type FleetContext } from './fleetWorker';
import { windowAround } from './windows';

const fakes = (n: number) => Array.from({ length: n }, () => new FakeCluster({ prefix: 'fleet' }));
const gold = (n: number) => Array.from({ length: n }, () => ({ tier: 'gold' }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(ctx: FleetContext, input: Partial<FleetInput>) {
  return ctx.client.workflow.start(fleet, {
    workflowId: `fleet/test/${randomUUID()}`,
    taskQueue: ctx.taskQueue,
    args: [{ runbook: 'planned', selector: 'tier=gold', ...input } as FleetInput],
  });
}

const progressOf = (h: WorkflowHandle) => h.query(fleetProgressQuery);
const byCluster = (r: FleetResult | FleetProgress) =>
  Object.fromEntries(r.clusters.map((c) => [c.cluster, c]));

/** Holds a cluster's critical section until the returned gate opens. */
function holdCritical(fake: FakeCluster) {
  const g = gate();
  fake.mocks.runCriticalSection = async (arg, f) => {
    await g.wait;
    return f.byDefault('runCriticalSection', arg);
  };
  return g;
}

describe('fleet', () => {
  test('never more than `concurrency` children at once; every cluster done; the progress query follows', async () => {
    const fs = fakes(5);
    let active = 0;
    let most = 0;
    for (const f of fs) {
      f.mocks.acquireClusterLock = async (arg, fake) => {
        const r = await fake.byDefault('acquireClusterLock', arg);
        most = Math.max(most, ++active);
        return r;
      };
      // Long enough that the children overlap if the fleet let them.
      f.mocks.longTransactions = async () => {
        await sleep(300);
        return [];
      };
      f.mocks.releaseClusterLock = async (arg, fake) => {
        active--;
        return fake.byDefault('releaseClusterLock', arg);
      };
    }
    await withFleetWorker(fs, { labels: gold(5) }, async (ctx) => {
      const h = await start(ctx, { concurrency: 2, maxFailures: 1 });
      const seen: number[] = [];
      let last: FleetProgress | undefined;
      const watching = (async () => {
        for (;;) {
          last = await progressOf(h).catch(() => last);
          if (last) seen.push(last.counts.running);
          if ((await h.describe()).status.name !== 'RUNNING') return;
          await sleep(50);
        }
      })();
      const r = await h.result();
      await watching;
      expect(most).toBe(2);
      expect(Math.max(...seen)).toBeLessThanOrEqual(2);
      expect(seen).toContain(2);
      expect(r).toMatchObject({ ok: true, ended: 'completed', counts: { done: 5, failed: 0, refused: 0 } });
      expect(r.clusters.map((c) => c.cluster).sort()).toEqual(fs.map((f) => f.name).sort());
      expect(byCluster(r)[fs[0].name]).toMatchObject({
        status: 'done',
        blackoutMs: 42,
        detail: 'db1 → db2, 42 ms of write blackout',
      });
      // Each child ran under its ordinary workflow id (one runbook per cluster).
      expect(new Set(fs.flatMap((f) => f.calls.map((c) => c.workflowId)))).toEqual(
        new Set(fs.map((f) => workflowIdFor(RUNBOOKS.planned, f.name))),
      );
      expect(fs.every((f) => f.writers()[0] === 'db2')).toBe(true);
      // The fleet's history grows by at most 10 events a child (start, started, ended and their
      // workflow tasks), so the default of a new run every 500 children stays near 5,000 events.
      expect((await h.fetchHistory()).events!.length).toBeLessThanOrEqual(5 * 10 + 25);
    });
  });

  test('the failure budget: refusals do not count; once maxFailures failed no new child starts', async () => {
    const fs = fakes(5);
    // fs[0] refuses (every replica lags); fs[1] and fs[2] fail (their critical sections fail and are undone).
    for (const host of ['db2', 'db3'])
      fs[0].set(host, { replication: { ...fs[0].node(host).replication!, lagSeconds: 100 } });
    for (const f of [fs[1], fs[2]])
      f.mocks.runCriticalSection = () => {
        throw nonRetryable('SqlError', 'read_only: lost connection');
      };
    await withFleetWorker(fs, { labels: gold(5) }, async (ctx) => {
      const r = await (await start(ctx, { concurrency: 1, maxFailures: 2 })).result();
      expect(r).toMatchObject({
        ok: false,
        ended: 'budget-spent',
        refused: [fs[0].name],
        failed: [fs[1].name, fs[2].name],
        notStarted: [fs[3].name, fs[4].name],
        counts: { done: 0, refused: 1, failed: 2, skipped: 2, running: 0, waiting: 0 },
      });
      const c = byCluster(r);
      expect(c[fs[0].name]).toMatchObject({ status: 'refused', type: 'Refused' });
      expect(c[fs[0].name].detail).toMatch(/lags 100 s/);
      expect(c[fs[1].name]).toMatchObject({ status: 'failed', type: 'Compensated' });
      expect(c[fs[3].name]).toMatchObject({
        status: 'skipped',
        detail: 'not started: 2 children failed, the budget of 2',
      });
      // Never started: not one activity on those clusters.
      expect(fs[3].calls).toEqual([]);
      expect(fs[4].calls).toEqual([]);
    });
  });

  test('pause, resume and abort: running children finish, no new one starts, each answer says what was done', async () => {
    const fs = fakes(4);
    const [g0, g1] = [holdCritical(fs[0]), holdCritical(fs[1])];
    await withFleetWorker(fs, { labels: gold(4) }, async (ctx) => {
      const h = await start(ctx, { concurrency: 1 });
      await until('the first child in its critical section', () => fs[0].called('runCriticalSection'));
      expect(await h.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] })).toBe(
        `paused by alice: no new child starts until resume; 1 running child (${fs[0].name}) finish; 3 waiting`,
      );
      expect(await rejection(h.executeUpdate(pauseUpdate, { args: [{}] }))).toBe('already paused by alice');

      // `fleet pause --id NAME` finds it among the running fleets (visibility: polled, a moment behind).
      const name = h.workflowId.split('/').pop()!;
      let found: string | undefined;
      for (let i = 0; i < 100 && !found; i++, await sleep(100))
        found = await findFleet(ctx.client, name).catch(() => undefined);
      expect(found).toBe(h.workflowId);

      g0.open();
      await until('the first child done', () => fs[0].called('releaseClusterLock'));
      await sleep(500);
      const paused = await progressOf(h);
      expect(paused).toMatchObject({ phase: 'paused', counts: { done: 1, running: 0, waiting: 3 } });
      expect(paused.paused).toMatchObject({ by: 'alice' });
      expect(fs[1].calls).toEqual([]);

      expect(await h.executeUpdate(resumeUpdate, { args: [{ by: 'bob' }] })).toMatch(
        /^resumed by bob \(paused by alice since .*\): 3 waiting$/,
      );
      await until('the second child in its critical section', () => fs[1].called('runCriticalSection'));
      expect(await h.executeUpdate(abortUpdate, { args: [{ by: 'carol' }] })).toBe(
        `aborted by carol: no new child starts; 1 running child (${fs[1].name}) finish (a child is never cancelled: it may be inside its critical section); 2 not started`,
      );
      expect(await rejection(h.executeUpdate(resumeUpdate, { args: [{}] }))).toBe(
        'the fleet was aborted by carol',
      );
      g1.open();
      const r = await h.result();
      expect(r).toMatchObject({
        ok: true,
        ended: 'aborted',
        aborted: { by: 'carol' },
        notStarted: [fs[2].name, fs[3].name],
      });
      // The child running at the abort was not cancelled: it switched.
      expect(byCluster(r)[fs[1].name]).toMatchObject({ status: 'done' });
      expect(fs[1].writers()).toEqual(['db2']);
      expect(byCluster(r)[fs[2].name]).toMatchObject({
        status: 'skipped',
        detail: 'not started: the fleet was aborted by carol',
      });
      expect(fs[2].calls).toEqual([]);
    });
  });

  test('bad input is refused before any child starts, with the reason', async () => {
    const fs = fakes(2);
    await withFleetWorker(fs, { labels: gold(2) }, async (ctx) => {
      const nothing = await failureOf(await start(ctx, { selector: 'tier=platinum' }));
      expect(nothing.type).toBe('Refused');
      expect(nothing.message).toMatch(
        /^fleet on tier=platinum refused, nothing was changed: .*no cluster has tier=platinum/,
      );

      const twice = await failureOf(
        await start(ctx, { selector: undefined, clusters: [fs[0].name, fs[0].name] }),
      );
      expect(twice.type).toBe('Refused');
      expect(twice.message).toMatch(/listed twice/);

      const green = await failureOf(await start(ctx, { runbook: 'upgrade', upgrade: { greenHost: 'db9' } }));
      expect(green.message).toMatch(new RegExp(`cluster ${fs[0].name} has no host db9`));

      const zero = await failureOf(await start(ctx, { concurrency: 0 }));
      expect(zero.type).toBe('BadInput');
      expect(zero.message).toMatch(/--concurrency: expected a whole number of at least 1/);

      const empty = await failureOf(await start(ctx, { selector: '  ' }));
      expect(empty.type).toBe('BadInput');
      expect(empty.message).toMatch(/empty selector/);

      // Not one child, not one activity on a cluster.
      expect(fs.flatMap((f) => f.calls)).toEqual([]);
    });
  });

  test('continue-as-new every few children keeps the queue and every outcome', async () => {
    const fs = fakes(5);
    fs[2].mocks.runCriticalSection = () => {
      throw nonRetryable('SqlError', 'read_only: lost connection');
    };
    await withFleetWorker(fs, { labels: gold(5) }, async (ctx) => {
      // A new run after every child ends; it waits for the other running child first, so each run
      // has 2 children (2 + 2 + 1), and nothing running is left behind by a hand-over.
      const h = await start(ctx, { concurrency: 2, maxFailures: 3, continueAsNewAfter: 1 });
      const r = await h.result();
      expect(r.runs).toBe(3);
      expect((await h.describe()).runId).not.toBe(h.firstExecutionRunId);
      expect(r).toMatchObject({ ended: 'completed', counts: { done: 4, failed: 1 }, failed: [fs[2].name] });
      expect(r.clusters.map((c) => c.cluster).sort()).toEqual(fs.map((f) => f.name).sort());
      // The first run's outcomes survived the hand-overs with their details.
      expect(byCluster(r)[fs[0].name].detail).toBe('db1 → db2, 42 ms of write blackout');
      // Each cluster ran once: the queue was handed over, not restarted.
      expect(fs.map((f) => f.callsOf('runCriticalSection').length)).toEqual([1, 1, 1, 1, 1]);
      // The selector was resolved once, by the first run.
      expect(ctx.fleetCalls.filter((c) => c.name === 'resolveFleet')).toHaveLength(1);
    });
  });

  test('dry runs: planned children run their own dry run; an upgrade fleet lists its plan', async () => {
    const fs = fakes(2);
    await withFleetWorker(fs, { labels: gold(2) }, async (ctx) => {
      const planned = await (await start(ctx, { dryRun: true, concurrency: 2 })).result();
      expect(planned).toMatchObject({ ok: true, dryRun: true, counts: { done: 2 } });
      expect(byCluster(planned)[fs[0].name].detail).toBe('dry run: db1 → db2, nothing changed');
      expect(fs.some((f) => f.called('runCriticalSection'))).toBe(false);

      const calls = fs.map((f) => f.calls.length);
      const upgrade = await (
        await start(ctx, { runbook: 'upgrade', dryRun: true, upgrade: { greenHost: 'db3' } })
      ).result();
      expect(upgrade).toMatchObject({ ok: true, ended: 'completed', counts: { skipped: 2 } });
      expect(byCluster(upgrade)[fs[1].name].detail).toBe(
        `dry run: would upgrade ${fs[1].name} with green db3`,
      );
      expect(fs.map((f) => f.calls.length)).toEqual(calls);
    });
  });

  test('a cluster whose runbook is already running is refused (its id is taken), the others run', async () => {
    const fs = fakes(2);
    const g = holdCritical(fs[0]);
    await withFleetWorker(fs, { labels: gold(2) }, async (ctx) => {
      const byHand = await ctx.client.workflow.start(plannedSuccessover, {
        workflowId: workflowIdFor(RUNBOOKS.planned, fs[0].name),
        taskQueue: ctx.taskQueue,
        args: [{ cluster: fs[0].name }],
      });
      await until('the run by hand in its critical section', () => fs[0].called('runCriticalSection'));
      const r = await (await start(ctx, { concurrency: 2 })).result();
      expect(r).toMatchObject({ ok: true, refused: [fs[0].name], counts: { done: 1, refused: 1 } });
      expect(byCluster(r)[fs[0].name].detail).toMatch(/is already running .*one runbook per cluster/);
      g.open();
      await byHand.result();
    });
  });

  test('a cancel request is an abort: the running child finishes, nothing new starts', async () => {
    const fs = fakes(2);
    const g = holdCritical(fs[0]);
    await withFleetWorker(fs, { labels: gold(2) }, async (ctx) => {
      const h = await start(ctx, { concurrency: 1 });
      await until('the first child in its critical section', () => fs[0].called('runCriticalSection'));
      await h.cancel();
      await sleep(300);
      g.open();
      const r = await h.result();
      expect(r).toMatchObject({
        ended: 'aborted',
        aborted: { by: 'a cancel request' },
        notStarted: [fs[1].name],
      });
      expect(byCluster(r)[fs[0].name].status).toBe('done');
      expect(fs[0].called('compensateCriticalSection')).toBe(false);
    });
  });

  test('a planned fleet outside its window starts nothing until the window opens', async () => {
    const fs = fakes(1);
    await withFleetWorker(fs, { labels: gold(1) }, async (ctx) => {
      const h = await start(ctx, { window: windowAround(Date.now(), 60, 120) });
      let p: FleetProgress | undefined;
      for (let i = 0; i < 200 && p?.phase !== 'waiting-for-window'; i++) {
        p = await progressOf(h).catch(() => undefined);
        await sleep(50);
      }
      expect(p).toMatchObject({ phase: 'waiting-for-window', counts: { waiting: 1, running: 0 } });
      expect(fs[0].calls).toEqual([]);
      await h.terminate('test over');
    });
  });
});
