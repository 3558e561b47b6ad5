// Domain errors reaching workflow code (issue 15, item 2): a GTID text a host reports that does not
// parse, a candidate whose position is unknown. Each fails the run at once with a non-retryable
// WorkflowError whose message names the host and the fix: no workflow task is retried, and the
// cluster lock is released.
import type { WorkflowHandle } from '@temporalio/client';
import { RUNBOOKS, type EmergencyRecoveryInput } from '../../../domain/runbook';
import type { InspectResult } from '../../../domain/topology';
import { emergencyRecovery, fenceWatch, plannedSuccessover } from '../../../workflows';
import { fenceWatchId, FailureType, workflowIdFor } from '../../../workflows/api';
import { failureOf, withWorker, type WorkerContext } from './env';
import { FakeCluster, type ActivityArg } from './fakeCluster';

function recover(ctx: WorkerContext, input: Partial<EmergencyRecoveryInput> = {}) {
  return ctx.client.workflow.start(emergencyRecovery, {
    workflowId: workflowIdFor(RUNBOOKS.emergency, ctx.fake.name),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, probeIntervalMs: 50, confirmTimeoutSeconds: 1, ...input }],
  });
}

/**
 * The run ended (failed) without one failed workflow task: the error failed the run, not the task.
 * The lock was taken and given back, and nobody holds it.
 */
async function expectCleanFailure(handle: WorkflowHandle, fake: FakeCluster) {
  const { status } = await handle.describe();
  expect(status.name).toBe('FAILED');
  const history = await handle.fetchHistory();
  const taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
  expect(taskFailures).toHaveLength(0);
  expect(fake.namesBy(handle.workflowId, 'acquireClusterLock', 'releaseClusterLock')).toEqual([
    'acquireClusterLock',
    'releaseClusterLock',
  ]);
  expect(fake.lock).toBeUndefined();
}

/**
 * inspectCluster answers as the fake would, with `patch` applied to the answer from the `nth`
 * discovery after the replicas were frozen (1: the positions the choice rests on, 2: the ones read
 * alongside the fence) onwards.
 */
function afterFreeze(
  fake: FakeCluster,
  nth: number,
  patch: (r: InspectResult) => void,
): (arg: ActivityArg<'inspectCluster'>) => Promise<InspectResult> {
  return async (arg) => {
    const r = await fake.byDefault('inspectCluster', arg);
    // The freeze: a discovery that stops the replicas first (it is then the first after it).
    const frozenAt = fake.calls.findIndex((c) => c.name === 'inspectCluster' && c.arg.freeze?.length);
    const since = fake.calls.slice(frozenAt).filter((c) => c.name === 'inspectCluster').length;
    if (frozenAt >= 0 && since >= nth) patch(r);
    return r;
  };
}

/** The replicas a run froze (their IO threads stopped before the positions were read). */
const frozenBy = (fake: FakeCluster) => fake.callsOf('inspectCluster').flatMap((c) => c.freeze ?? []);

const node = (r: InspectResult, name: string) => r.topology.nodes.find((n) => n.name === name)!;

describe('domain errors fail the run cleanly, naming the host', () => {
  test.concurrent('emergency: the candidate reports a malformed GTID position after the fence', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    fake.mocks.inspectCluster = afterFreeze(fake, 2, (r) => {
      node(r, 'db2').gtidExecuted = '0-1-100,0-2-garbage';
    });
    await withWorker(fake, async (ctx) => {
      const handle = await recover(ctx);
      const f = await failureOf(handle);
      expect(f.type).toBe(FailureType.WorkflowError);
      expect(f.message).toMatch(/db2's GTID position cannot be read: invalid MariaDB GTID position/);
      expect(f.message).toMatch(/set promotion: must_not on db2/);
      await expectCleanFailure(handle, fake);
      // Past the fence: the old primary stays fenced, nothing was promoted, the hooks heard of it.
      expect(fake.callsOf('fenceOldPrimary')).toHaveLength(1);
      expect(fake.called('promote')).toBe(false);
      expect(fake.callsOf('notify').map((n) => n.event)).toEqual(['detected', 'failed']);
    });
  });

  test.concurrent(
    'emergency: another replica reports a malformed received position after the fence',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      fake.mocks.inspectCluster = afterFreeze(fake, 2, (r) => {
        r.relay.db3 = { ...r.relay.db3, received: '0-1-1o1' };
      });
      await withWorker(fake, async (ctx) => {
        const handle = await recover(ctx);
        const f = await failureOf(handle);
        expect(f.type).toBe(FailureType.WorkflowError);
        expect(f.message).toMatch(/db3's received position .* cannot be read/);
        await expectCleanFailure(handle, fake);
        expect(fake.called('promote')).toBe(false);
      });
    },
  );

  test.concurrent('emergency: the candidate reports no GTID position after the fence', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    fake.mocks.inspectCluster = afterFreeze(fake, 2, (r) => {
      delete node(r, 'db2').gtidExecuted;
    });
    await withWorker(fake, async (ctx) => {
      const handle = await recover(ctx);
      const f = await failureOf(handle);
      expect(f.type).toBe(FailureType.WorkflowError);
      expect(f.message).toMatch(/cannot plan the catch-up of db2: its GTID position is unknown/);
      expect(f.message).toMatch(/set promotion: must_not on db2/);
      await expectCleanFailure(handle, fake);
      expect(fake.called('promote')).toBe(false);
    });
  });

  test.concurrent(
    'emergency: a malformed position in the ranking fails before the fence, replicas thawed',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      fake.mocks.inspectCluster = afterFreeze(fake, 1, (r) => {
        node(r, 'db3').gtidExecuted = 'not a gtid';
      });
      await withWorker(fake, async (ctx) => {
        const handle = await recover(ctx);
        const f = await failureOf(handle);
        expect(f.type).toBe(FailureType.WorkflowError);
        expect(f.message).toMatch(/db3's GTID position cannot be read/);
        await expectCleanFailure(handle, fake);
        // Nothing changed: no fence, and the IO threads the run stopped are started again.
        expect(fake.called('fenceOldPrimary')).toBe(false);
        expect(frozenBy(fake).sort()).toEqual(['db2', 'db3']);
        expect(
          fake
            .callsOf('startReceiving')
            .map((c) => c.host)
            .sort(),
        ).toEqual(frozenBy(fake).sort());
      });
    },
  );

  test.concurrent('planned successover without a target: a malformed position names its host', async () => {
    const fake = new FakeCluster();
    fake.set('db3', { gtidExecuted: '0-1-100,garbage' });
    await withWorker(fake, async (ctx) => {
      const handle = await ctx.client.workflow.start(plannedSuccessover, {
        workflowId: workflowIdFor(RUNBOOKS.planned, fake.name),
        taskQueue: ctx.taskQueue,
        args: [{ cluster: fake.name }],
      });
      const f = await failureOf(handle);
      expect(f.type).toBe(FailureType.WorkflowError);
      expect(f.message).toMatch(/db3's GTID position cannot be read/);
      await expectCleanFailure(handle, fake);
      expect(fake.writers()).toEqual(['db1']);
      expect(fake.called('runCriticalSection')).toBe(false);
    });
  });

  test.concurrent('fence watch: the old primary answers with a malformed history', async () => {
    const fake = new FakeCluster();
    fake.mocks.gtidPosition = async (arg, f) => {
      const r = await f.byDefault('gtidPosition', arg);
      return arg.host === 'db1' ? { ...r, binlogState: '0-1-100,0-1-101' } : r;
    };
    await withWorker(fake, async (ctx) => {
      const handle = await ctx.client.workflow.start(fenceWatch, {
        workflowId: fenceWatchId(fake.name, 'db1'),
        taskQueue: ctx.taskQueue,
        args: [
          {
            cluster: fake.name,
            flavor: 'mariadb',
            host: 'db1',
            newPrimary: 'db2',
            intervalSeconds: 1,
            untilIso: new Date(Date.now() + 60_000).toISOString(),
          },
        ],
      });
      const f = await failureOf(handle);
      expect(f.type).toBe(FailureType.WorkflowError);
      expect(f.message).toMatch(/db1's GTID history .* cannot be read/);
      const history = await handle.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
    });
  });
});
