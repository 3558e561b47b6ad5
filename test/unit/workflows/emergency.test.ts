// Emergency recovery, every branch up to the promotion and the ways it ends, with the real workflow
// code and the fake cluster's activities.
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { RUNBOOKS, type EmergencyRecoveryInput } from '../../../domain/runbook';
import { emergencyRecovery, fenceWatch } from '../../../workflows';
import {
  abortUpdate,
  approveUpdate,
  fenceWatchId,
  progressQuery,
  workflowIdFor,
} from '../../../workflows/api';
import { runMetricsSinks } from '../../../metrics/runSink';
import { failureOf, waitForPhase, withWorker, type WorkerContext } from './env';
import { FakeCluster, nonRetryable } from './fakeCluster';
import { workflowTestEnv } from './sharedServer';

function start(ctx: WorkerContext, input: Partial<EmergencyRecoveryInput> = {}) {
  return ctx.client.workflow.start(emergencyRecovery, {
    workflowId: workflowIdFor(RUNBOOKS.emergency, ctx.fake.name),
    taskQueue: ctx.taskQueue,
    // Quick rounds: the probes answer at once, and replicas are asked again within a second.
    args: [{ cluster: ctx.fake.name, probeIntervalMs: 50, confirmTimeoutSeconds: 1, ...input }],
  });
}

/** What changes a cluster during a recovery; a run that ends before the fence calls none of them. */
const CHANGES = ['fenceOldPrimary', 'promote', 'attachTraffic', 'repoint'] as const;

/** The lock was taken and given back by this run, and nobody holds it now. */
function expectUnlocked(fake: FakeCluster) {
  expect(fake.names('acquireClusterLock', 'releaseClusterLock')).toEqual([
    'acquireClusterLock',
    'releaseClusterLock',
  ]);
  expect(fake.lock).toBeUndefined();
}

const notified = (fake: FakeCluster) => fake.callsOf('notify').map((n) => n.event);

async function stopFenceWatch(ctx: WorkerContext, host: string) {
  await ctx.client.workflow
    .getHandle(fenceWatchId(ctx.fake.name, host))
    .terminate('test over')
    .catch(() => undefined);
}

describe('emergency recovery', () => {
  test.concurrent(
    'recovered: confirmed dead, fenced, best replica promoted with the traffic, the others repointed',
    async () => {
      const fake = new FakeCluster({ hostFields: { db3: { promotion: 'prefer' } } });
      fake.kill('db1');
      await withWorker(fake, async (ctx) => {
        const handle = await start(ctx, { reason: 'alert: db1 down' });
        const r = await handle.result();
        expect(r).toMatchObject({ ok: true, outcome: 'recovered', primary: 'db1', newPrimary: 'db3' });
        expect(r.reason).toBe('alert: db1 down');
        expect(r.recoveryMs).toEqual(expect.any(Number));
        // Evidence from the worker's probes and from the replica that was asked.
        expect(r.evidence.filter((e) => e.from === 'worker').every((e) => e.says === 'down')).toBe(true);
        expect(r.evidence.find((e) => e.from === 'db2')).toMatchObject({ says: 'down' });
        // Nothing changes before the fence; then promote and traffic (at once), then repoint.
        const own = fake.namesBy(handle.workflowId);
        const changes = fake.namesBy(handle.workflowId, ...CHANGES);
        expect(changes[0]).toBe('fenceOldPrimary');
        expect(changes.slice(1, 3).sort()).toEqual(['attachTraffic', 'promote']);
        expect(changes.slice(3)).toEqual(['repoint']);
        expect(own.indexOf('salvageBinlog')).toBeLessThan(own.indexOf('promote'));
        expect(own.indexOf('salvageBinlog')).toBeLessThan(own.indexOf('attachTraffic'));
        // db1's mysqld refuses (down, its host up) and starts read-only: it kept the traffic
        // until the promotion, which took it off.
        expect(fake.callsOf('fenceOldPrimary')[0]).toMatchObject({ host: 'db1', trafficMayWait: true });
        expect(r.fencing).toMatchObject({ traffic: { status: 'deferred' }, fenced: true });
        expect(fake.callsOf('detachTraffic')).toEqual([{ cluster: fake.name, host: 'db1' }]);
        expect(own.indexOf('salvageBinlog')).toBeLessThan(own.indexOf('detachTraffic'));
        expect(own.indexOf('probePrimary')).toBeLessThan(own.indexOf('fenceOldPrimary'));
        // The freeze and the positions it fixes are one step: the replicas stop receiving, then the
        // cluster is read, in one discovery before the fence.
        const freezing = fake.callsOf('inspectCluster').filter((c) => c.freeze?.length);
        expect(freezing.map((c) => c.freeze)).toEqual([['db2', 'db3']]);
        expect(fake.called('stopReceiving')).toBe(false);
        expect(r.timeline.filter((t) => t.step === 'stop receiving')).toHaveLength(1);
        expect(fake.callsOf('promote')).toEqual([{ cluster: fake.name, host: 'db3' }]);
        expect(fake.callsOf('repoint')).toEqual([{ cluster: fake.name, host: 'db2', source: 'db3' }]);
        expect(fake.writers()).toEqual(['db3']);
        expect(fake.traffic).toEqual(['db3']);
        expect(notified(fake)).toEqual(['detected', 'succeeded']);
        expectUnlocked(fake);
        // The old primary stays fenced: a watch keeps trying it.
        expect(r.fenceWatch).toBe(fenceWatchId(fake.name, 'db1'));
        const watch = await ctx.client.workflow.getHandle(r.fenceWatch!).describe();
        expect(watch.status.name).toBe('RUNNING');
        const d = await ctx.client.workflow
          .getHandle(workflowIdFor(RUNBOOKS.emergency, fake.name))
          .describe();
        expect(d.searchAttributes).toMatchObject({ RunbookPhase: ['recovered'] });
        expect(ctx.runs.find((x) => x.event === 'ended')).toMatchObject({
          runbook: RUNBOOKS.emergency,
          outcome: 'completed',
        });

        // The old primary comes back with a write the new one never received: the watch fences it and
        // reports the lost transaction.
        fake.set('db1', {
          reachable: true,
          readOnly: false,
          error: undefined,
          gtidExecuted: '0-1-101',
          gtidHistory: '0-1-101',
        });
        fake.traffic = ['db3', 'db1'];
        const watched = await ctx.client.workflow.getHandle<typeof fenceWatch>(r.fenceWatch!).result();
        expect(watched.fence).toMatchObject({ host: 'db1', readOnly: { status: 'done' } });
        expect(watched.lost).toMatchObject({ known: true, lost: true });
        expect(JSON.stringify(watched.lost)).toContain('0-1-101');
        expect(fake.writers()).toEqual(['db3']);
        expect(fake.traffic).toEqual(['db3']);
      });
    },
  );

  test.concurrent(
    'the promotion and the traffic move run at once: neither waits for the other to finish',
    async () => {
      // The promotion answers only once the traffic move has started: one after the other, the
      // run would fail here instead of recovering.
      const fake = new FakeCluster();
      fake.mocks.promote = async (arg, f) => {
        for (let i = 0; i < 100 && !f.called('attachTraffic'); i++)
          await new Promise((r) => setTimeout(r, 20));
        if (!f.called('attachTraffic'))
          throw nonRetryable('Test', 'the promotion ran alone: the traffic move waited for it');
        return f.byDefault('promote', arg);
      };
      fake.kill('db1');
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r).toMatchObject({ ok: true, outcome: 'recovered', primary: 'db1' });
        expect(fake.traffic).toEqual([r.newPrimary]);
        expect(fake.writers()).toEqual([r.newPrimary]);
        const steps = r.timeline.filter((t) => t.step === 'promote' || t.step === 'traffic to new primary');
        expect(steps.map((t) => t.status)).toEqual(['done', 'done']);
        await stopFenceWatch(ctx, 'db1');
      });
    },
  );

  test.concurrent(
    'an old primary that does not answer at all (not refused) has its traffic taken off at the fence',
    async () => {
      // Its host may be cut off from the worker and the replicas only, with a writable mysqld:
      // the traffic cannot wait for the promotion there.
      const fake = new FakeCluster();
      fake.kill('db1');
      fake.set('db1', { error: 'connect ETIMEDOUT' });
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r).toMatchObject({ outcome: 'recovered', fencing: { traffic: { status: 'done' } } });
        expect(fake.callsOf('detachTraffic')).toEqual([]);
        expect(fake.traffic).toEqual([r.newPrimary]);
        expect(r.timeline.map((t) => t.step)).not.toContain('traffic off old primary');
        await stopFenceWatch(ctx, 'db1');
      });
    },
  );

  test.concurrent('false alarm: the primary answers the probes; nothing changed, unlocked', async () => {
    const fake = new FakeCluster();
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { primary: 'db1' })).result();
      expect(r).toMatchObject({ outcome: 'false-alarm', primary: 'db1', newPrimary: null, recoveryMs: null });
      expect(r.reason).toMatch(/^false alarm, nothing was changed: db1 answered/);
      expect(fake.names(...CHANGES)).toEqual([]);
      expect(notified(fake)).toEqual([]);
      expectUnlocked(fake);
      const d = await ctx.client.workflow.getHandle(workflowIdFor(RUNBOOKS.emergency, fake.name)).describe();
      expect(d.searchAttributes).toMatchObject({ RunbookPhase: ['false-alarm'] });
    });
  });

  test.concurrent(
    'false alarm: the worker cannot reach the primary but the replicas still stream from it (asked again until the bound)',
    async () => {
      const fake = new FakeCluster();
      fake.mocks.probePrimary = ({ probes }) =>
        Array.from({ length: probes }, () => ({
          ok: false,
          at: new Date().toISOString(),
          error: 'ETIMEDOUT',
        }));
      fake.set('db1', { reachable: false, error: 'connect ETIMEDOUT' }); // a partition between worker and db1
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { primary: 'db1', confirmTimeoutSeconds: 1 })).result();
        expect(r.outcome).toBe('false-alarm');
        expect(r.reason).toMatch(/db2 and db3 still stream from db1/);
        // Replicas notice a cut link late, so they were asked more than once before giving up.
        expect(fake.names('probePrimary').length).toBeGreaterThan(1);
        expect(fake.names(...CHANGES)).toEqual([]);
        expectUnlocked(fake);
      });
    },
  );

  test.concurrent(
    'the replicas notice the dead primary in a later round: confirmed then, and recovered',
    async () => {
      const fake = new FakeCluster();
      fake.set('db1', { reachable: false, error: 'connect ECONNREFUSED' });
      fake.mocks.probePrimary = ({ probes }, f) => {
        // The replicas' IO threads give up after the second round.
        if (f.names('probePrimary').length >= 2) f.kill('db1');
        return Array.from({ length: probes }, () => ({
          ok: false,
          at: new Date().toISOString(),
          error: 'ECONNREFUSED',
        }));
      };
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { primary: 'db1', confirmTimeoutSeconds: 10 })).result();
        expect(r.outcome).toBe('recovered');
        expect(fake.names('probePrimary').length).toBeGreaterThan(1);
        await stopFenceWatch(ctx, 'db1');
      });
    },
  );

  test.concurrent(
    'undecidable: the replicas say nothing about the primary; refused, nothing changed, unlocked',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      for (const n of ['db2', 'db3'])
        fake.set(n, { replication: { ...fake.node(n).replication!, ioRunning: 'no', ioError: '' } });
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx, { primary: 'db1', confirmTimeoutSeconds: 0 }));
        expect(f.type).toBe('Refused');
        expect(f.message).toMatch(
          new RegExp(
            `^emergency-recovery on ${fake.name} refused, nothing was changed: the failure of db1 could not be confirmed: `,
          ),
        );
        expect(f.message).toContain("db2's IO thread is stopped without an error");
        expect(fake.names(...CHANGES)).toEqual([]);
        expectUnlocked(fake);
        expect(ctx.runs.find((x) => x.event === 'ended')?.outcome).toBe('refused');
      });
    },
  );

  test.concurrent(
    'the first workflow task schedules the lock, the discovery and the probe, then the last recovery: nothing waits for visibility',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      await withWorker(fake, async (ctx) => {
        const handle = await start(ctx, { primary: 'db1' });
        expect((await handle.result()).outcome).toBe('recovered');
        await stopFenceWatch(ctx, 'db1');
        const history = await handle.fetchHistory();
        // The run replays on the code that recorded it.
        await Worker.runReplayHistory(
          { workflowBundle: { codePath: workflowTestEnv('bundle') }, sinks: runMetricsSinks() },
          history,
          handle.workflowId,
        );
        const events = history.events ?? [];
        // The commands of the first completed workflow task: the events right after it.
        const from = events.findIndex((e) => e.workflowTaskCompletedEventAttributes) + 1;
        const end = events.findIndex(
          (e, i) =>
            i >= from &&
            !e.activityTaskScheduledEventAttributes &&
            !e.markerRecordedEventAttributes &&
            !e.upsertWorkflowSearchAttributesEventAttributes,
        );
        const first = events.slice(from, end);
        const scheduled = first.flatMap(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
        );
        expect(scheduled).toEqual([
          'acquireClusterLock',
          'warmConnections',
          'inspectCluster',
          'probePrimary',
          'lastRecovery',
        ]);
        // The spec is the one local activity: the last recovery no longer holds the task open.
        const localActivities = events.filter(
          (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
        );
        expect(localActivities).toHaveLength(1);
      });
    },
  );

  test.concurrent('flapping: a recovery right after another is refused, naming the last one', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    fake.lastRecovery = {
      endedAt: new Date(Date.now() - 60_000).toISOString(),
      workflowId: 'emergency-recovery/earlier',
    };
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx));
      expect(f.type).toBe('Refused');
      expect(f.message).toMatch(
        /the next is blocked until .*: acknowledge with --ack-flapping \(last: emergency-recovery\/earlier\)/,
      );
      expect(fake.names(...CHANGES)).toEqual([]);
      // A refusal is not a failed recovery: the hooks heard "detected", not "failed".
      expect(notified(fake)).toEqual(['detected']);
      expectUnlocked(fake);
    });
  });

  test.concurrent('flapping acknowledged: recovered, with the acknowledgement in the warnings', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    fake.lastRecovery = {
      endedAt: new Date(Date.now() - 60_000).toISOString(),
      workflowId: 'emergency-recovery/earlier',
    };
    await withWorker(fake, async (ctx) => {
      const r = await (await start(ctx, { ackFlapping: true })).result();
      expect(r.outcome).toBe('recovered');
      expect(r.warnings.join('\n')).toMatch(/inside the 3600 s block window .*acknowledged/);
      await stopFenceWatch(ctx, 'db1');
    });
  });

  describe('approval (policy requireApproval)', () => {
    const approvalCluster = () => {
      const fake = new FakeCluster({ policy: { requireApproval: true } });
      fake.kill('db1');
      return fake;
    };

    async function atApproval(ctx: WorkerContext, input: Partial<EmergencyRecoveryInput> = {}) {
      const handle = await start(ctx, input);
      const p = await waitForPhase(handle, 'approval');
      // Nothing has changed while the run waits for a human.
      expect(ctx.fake.names(...CHANGES)).toEqual([]);
      return { handle, p };
    }

    test.concurrent(
      'granted: promoted after the approve update, who approved is in the timeline',
      async () => {
        const fake = approvalCluster();
        await withWorker(fake, async (ctx) => {
          const { handle } = await atApproval(ctx);
          expect(await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', comment: 'go' }] })).toBe(
            'approved by alice',
          );
          const r = await handle.result();
          expect(r.outcome).toBe('recovered');
          expect(r.timeline.find((s) => s.step === 'approval')).toMatchObject({
            status: 'done',
            detail: 'approved by alice: go',
          });
          expect(fake.names(...CHANGES)[0]).toBe('fenceOldPrimary');
          await stopFenceWatch(ctx, 'db1');
        });
      },
    );

    test.concurrent('aborted: refused before anything changed, naming who aborted', async () => {
      const fake = approvalCluster();
      await withWorker(fake, async (ctx) => {
        const { handle } = await atApproval(ctx);
        expect(
          await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob', comment: 'investigating' }] }),
        ).toBe('aborted by bob');
        const f = await failureOf(handle);
        expect(f.type).toBe('Refused');
        expect(f.message).toContain('aborted by bob before anything was changed: investigating');
        expect(fake.names(...CHANGES)).toEqual([]);
        expectUnlocked(fake);
      });
    });

    test.concurrent(
      'timed out: no answer within approvalTimeoutSeconds aborts, nothing changed',
      async () => {
        const fake = approvalCluster();
        await withWorker(fake, async (ctx) => {
          const { handle } = await atApproval(ctx, { approvalTimeoutSeconds: 1 });
          const f = await failureOf(handle);
          expect(f.type).toBe('Refused');
          expect(f.message).toContain('no approval within 1 s: aborted, nothing was changed');
          expect(fake.names(...CHANGES)).toEqual([]);
          expectUnlocked(fake);
          const p = await handle.query(progressQuery);
          expect(p.timeline.find((s) => s.step === 'approval')).toMatchObject({ detail: 'timed-out' });
        });
      },
    );
  });

  test.concurrent('errant GTIDs on the best candidate: refused, listing them, nothing changed', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    fake.set('db2', { gtidExecuted: '0-1-105', gtidHistory: '0-1-105,0-2-7' });
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx));
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('db2 has errant transactions');
      expect(f.message).toContain('0-2-7');
      expect(fake.names(...CHANGES)).toEqual([]);
      expectUnlocked(fake);
    });
  });

  test.concurrent(
    'the promotion fails after the fence: the run fails (no undo), the hooks hear "failed", unlocked',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      fake.mocks.promote = ({ host }) => {
        throw nonRetryable('SqlError', `promote on ${host}: Access denied; you need the SUPER privilege`);
      };
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.chain[0]).toBe('ActivityFailure(promote)');
        expect(f.rootMessage).toContain('SUPER privilege');
        // Fenced, the promotion tried (and failed) while the traffic moved to the candidate, which
        // then gives it back: no VIP stays on a replica that a later run may not promote.
        const changes = fake.names(...CHANGES, 'detachTraffic');
        expect(changes[0]).toBe('fenceOldPrimary');
        expect(changes.slice(1, 4).sort()).toEqual(['attachTraffic', 'detachTraffic', 'promote']);
        expect(changes.slice(4)).toEqual(['detachTraffic']);
        expect(fake.callsOf('detachTraffic').map((c) => c.host)).toEqual(['db1', 'db2']);
        expect(fake.traffic).toEqual([]);
        expect(fake.writers()).toEqual([]);
        expect(notified(fake)).toEqual(['detected', 'failed']);
        expect(fake.callsOf('notify')[1].facts).toMatchObject({ primary: 'db1', newPrimary: '' });
        expectUnlocked(fake);
      });
    },
  );

  test.concurrent(
    'the cluster locked by a run that does not step aside: asked, waited for lockWaitSeconds, then refused, nothing changed',
    async () => {
      const fake = new FakeCluster({ policy: { lockWaitSeconds: 1 } });
      fake.kill('db1');
      const other = {
        workflowId: `planned-successover/${fake.name}`,
        runId: 'r-1',
        runbook: RUNBOOKS.planned,
      };
      fake.lock = other;
      await withWorker(fake, async (ctx) => {
        const handle: WorkflowHandle = await start(ctx);
        const f = await failureOf(handle);
        expect(f.type).toBe('Refused');
        expect(f.message).toContain(`is locked by ${RUNBOOKS.planned} ${other.workflowId}`);
        expect(f.message).toMatch(/it did not end within 1 s$/);
        expect(fake.callsOf('preemptLockHolder')).toHaveLength(1);
        // A refusal, not a failed recovery: the hooks never hear "failed".
        expect(notified(fake)).not.toContain('failed');
        expect(fake.names(...CHANGES)).toEqual([]);
        // Not taken, so not released: the other run keeps it.
        expect(fake.names('releaseClusterLock')).toEqual([]);
        expect(fake.lock).toBe(other);
      });
    },
  );
});
