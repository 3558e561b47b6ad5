// The rejoin runbook and the fence watch's automatic rejoin (policy.rejoin auto), with the real
// workflow code and the fake cluster's activities.
import { WorkflowNotFoundError } from '@temporalio/client';
import { RUNBOOKS, type RejoinInput } from '../../../domain/runbook';
import { fenceWatch, rejoin } from '../../../workflows';
import { fenceWatchId, workflowIdFor } from '../../../workflows/api';
import { failureOf, until, withWorker, type WorkerContext } from './env';
import { FakeCluster } from './fakeCluster';

/** What changes a cluster during a rejoin; a refused one calls none of them. */
const CHANGES = ['repoint', 'waitUntilApplied', 'persistReadOnly'] as const;

/** The lock was taken and given back, and nobody holds it now. */
function expectUnlocked(fake: FakeCluster) {
  expect(fake.names('acquireClusterLock', 'releaseClusterLock')).toEqual([
    'acquireClusterLock',
    'releaseClusterLock',
  ]);
  expect(fake.lock).toBeUndefined();
}

/**
 * A master-master pair db1 <-> db2 after an emergency recovery: db1 died, db2 was promoted (it
 * forgot its source, holds the traffic) and wrote 10 transactions; db1 is back, fenced (read-only)
 * and still names db2 as its source, its IO thread stopped.
 */
function recoveredPair(db1History = '0-1-100'): FakeCluster {
  const fake = new FakeCluster({ hosts: 2, pair: true });
  fake.set('db2', {
    readOnly: false,
    replication: null,
    gtidExecuted: '0-2-110',
    gtidHistory: '0-1-100,0-2-110',
  });
  fake.set('db1', {
    readOnly: true,
    replication: { ...fake.node('db1').replication!, ioRunning: 'no', sqlRunning: false },
    gtidExecuted: db1History,
    gtidHistory: db1History,
  });
  fake.traffic = ['db2'];
  return fake;
}

function start(ctx: WorkerContext, input: Partial<RejoinInput> = {}) {
  return ctx.client.workflow.start(rejoin, {
    workflowId: workflowIdFor(RUNBOOKS.rejoin, ctx.fake.name),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, host: 'db1', ...input }],
  });
}

describe('rejoin', () => {
  test.concurrent(
    "a pair's side holding nothing more: replica of the primary, caught up, then the way back; a pair again",
    async () => {
      const fake = recoveredPair();
      await withWorker(fake, async (ctx) => {
        const handle = await start(ctx, { waitTimeoutSeconds: 7 });
        const r = await handle.result();
        expect(r).toMatchObject({ ok: true, cluster: fake.name, host: 'db1', primary: 'db2', pair: true });
        expect(r.pairReason).toBe(
          'a pair: db1 still names db2 as its source (its way back before the failure)',
        );
        expect(r.lost).toBe('nothing lost: db2 has every transaction db1 committed');
        expect(r.warnings).toEqual([]);
        // Lock, read, compare, repoint, catch up, way back, verify, unlock.
        expect(fake.names('persistReadOnly').length).toBe(2);
        expect(fake.names().filter((n) => n !== 'persistReadOnly')).toEqual([
          'acquireClusterLock',
          'loadClusterSpec',
          'inspectCluster',
          'gtidPosition',
          'gtidPosition',
          'repoint',
          'waitUntilApplied',
          'repoint',
          'inspectCluster',
          'releaseClusterLock',
        ]);
        expect(
          fake
            .callsOf('gtidPosition')
            .map((c) => c.host)
            .sort(),
        ).toEqual(['db1', 'db2']);
        // The host is demoted under the primary; the primary, writable, replicates from it again.
        expect(fake.callsOf('repoint')).toEqual([
          { cluster: fake.name, host: 'db1', source: 'db2', demote: true },
          { cluster: fake.name, host: 'db2', source: 'db1', writer: true },
        ]);
        // The way back waits until the host has what the primary had written.
        expect(fake.callsOf('waitUntilApplied')).toEqual([
          { cluster: fake.name, host: 'db1', position: '0-2-110', timeoutSeconds: 7 },
        ]);
        expect(
          fake
            .callsOf('persistReadOnly')
            .map(({ host, readOnly }) => ({ host, readOnly }))
            .sort((a, b) => a.host.localeCompare(b.host)),
        ).toEqual([
          { host: 'db1', readOnly: true },
          { host: 'db2', readOnly: false },
        ]);
        expect(r.timeline.map((s) => s.step)).toEqual([
          'lock',
          'load cluster spec',
          'discover',
          'host history',
          'primary history',
          'repoint',
          'writable after a restart',
          'read-only after a restart',
          'catch up',
          'way back',
          'verify invariants',
        ]);
        expect(r.timeline.every((s) => s.status === 'done')).toBe(true);
        // Replication both ways, one writer, the traffic where it was.
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.node('db1')).toMatchObject({ readOnly: true, replication: { source: 'db2' } });
        expect(fake.node('db2').replication?.source).toBe('db1');
        expect(fake.traffic).toEqual(['db2']);
        expect(fake.startsReadOnly).toEqual(new Set(['db1']));
        expect(r.topology.find((n) => n.name === 'db2')).toMatchObject({ source: 'db1', readOnly: false });
        expectUnlocked(fake);
        expect(ctx.runs.filter((x) => x.event === 'ended')).toMatchObject([
          { runbook: RUNBOOKS.rejoin, cluster: fake.name, outcome: 'completed' },
        ]);
      });
    },
  );

  test.concurrent(
    'not a pair (the old primary replicates from no one): a replica again, no catch-up, no way back',
    async () => {
      // db1 died, db2 was promoted, db3 repointed to it; db1 is back fenced.
      const fake = new FakeCluster();
      fake.set('db2', {
        readOnly: false,
        replication: null,
        gtidExecuted: '0-2-110',
        gtidHistory: '0-1-100,0-2-110',
      });
      fake.set('db3', { replication: { ...fake.node('db3').replication!, source: 'db2' } });
      fake.set('db1', { readOnly: true });
      fake.traffic = ['db2'];
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx)).result();
        expect(r).toMatchObject({ ok: true, primary: 'db2', pair: false });
        expect(r.pairReason).toBe('not a pair: db1 replicates from no one');
        expect(fake.callsOf('repoint')).toEqual([
          { cluster: fake.name, host: 'db1', source: 'db2', demote: true },
        ]);
        expect(fake.called('waitUntilApplied')).toBe(false);
        const steps = r.timeline.map((s) => s.step);
        expect(steps).not.toContain('catch up');
        expect(steps).not.toContain('way back');
        expect(steps.indexOf('repoint')).toBeLessThan(steps.indexOf('verify invariants'));
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.node('db1').replication?.source).toBe('db2');
        expect(fake.node('db2').replication).toBeNull();
        expectUnlocked(fake);
      });
    },
  );

  test.concurrent(
    "--no-pair on a pair's side: a plain replica, the primary replicates from no one",
    async () => {
      const fake = recoveredPair();
      await withWorker(fake, async (ctx) => {
        const r = await (await start(ctx, { pair: false })).result();
        expect(r).toMatchObject({ pair: false, pairReason: 'not a pair: --no-pair' });
        expect(fake.callsOf('repoint').map((c) => c.host)).toEqual(['db1']);
        expect(fake.node('db2').replication).toBeNull();
        expectUnlocked(fake);
      });
    },
  );

  test.concurrent(
    'the host holds transactions the primary lacks: refused with the GTIDs, nothing repointed, unlocked',
    async () => {
      // db1 committed 0-1-101..105 before it died; db2 never received them.
      const fake = recoveredPair('0-1-105');
      await withWorker(fake, async (ctx) => {
        const f = await failureOf(await start(ctx));
        expect(f.type).toBe('Refused');
        expect(f.message).toMatch(
          new RegExp(
            `^rejoin on ${fake.name} refused, nothing was changed: db1 holds transactions db2 lacks`,
          ),
        );
        expect(f.message).toContain('domain 0: server 1 after 0-1-100 up to 0-1-105');
        expect(f.message).toContain('provision-replica --wipe');
        expect(fake.names(...CHANGES)).toEqual([]);
        expect(fake.node('db1')).toMatchObject({ readOnly: true, gtidHistory: '0-1-105' });
        expectUnlocked(fake);
        expect(ctx.runs.find((x) => x.event === 'ended')?.outcome).toBe('refused');
      });
    },
  );

  test.concurrent('the host is the primary: refused by the decision, nothing read or changed', async () => {
    const fake = recoveredPair();
    await withWorker(fake, async (ctx) => {
      const f = await failureOf(await start(ctx, { host: 'db2' }));
      expect(f.type).toBe('Refused');
      expect(f.message).toContain('db2 is the primary: rejoin takes back a fenced node, not the writer');
      expect(fake.names('gtidPosition', ...CHANGES)).toEqual([]);
      expectUnlocked(fake);
    });
  });
});

describe('fence watch with rejoin (policy.rejoin auto)', () => {
  const watch = (ctx: WorkerContext, rejoinInput?: boolean) =>
    ctx.client.workflow.start(fenceWatch, {
      workflowId: fenceWatchId(ctx.fake.name, 'db1'),
      taskQueue: ctx.taskQueue,
      args: [
        {
          cluster: ctx.fake.name,
          flavor: 'mariadb',
          host: 'db1',
          newPrimary: 'db2',
          intervalSeconds: 0.1,
          untilIso: new Date(Date.now() + 600_000).toISOString(),
          ...(rejoinInput === undefined ? {} : { rejoin: rejoinInput }),
        },
      ],
    });
  const rejoinId = (fake: FakeCluster) => `${workflowIdFor(RUNBOOKS.rejoin, fake.name)}/db1`;

  /** The pair after the recovery, db1 still dead; it comes back writable (no read_only file). */
  function deadSide(db1History = '0-1-100'): FakeCluster {
    const fake = recoveredPair(db1History);
    fake.kill('db1');
    return fake;
  }
  const comeBack = (fake: FakeCluster) =>
    fake.set('db1', { reachable: true, readOnly: false, error: undefined });

  test.concurrent(
    'the old primary answers and holds nothing more: fenced, then the rejoin child makes it the standby again',
    async () => {
      const fake = deadSide();
      await withWorker(fake, async (ctx) => {
        const handle = await watch(ctx, true);
        await until('a fence attempt', () => fake.called('fenceOldPrimary'));
        comeBack(fake);
        const r = await handle.result();
        expect(r.fence).toMatchObject({ host: 'db1', readOnly: { status: 'done' } });
        expect(r.lost).toMatchObject({ known: true, lost: false });
        expect(r.rejoin).toBe('db1 rejoined db2 as its master-master standby');
        // The watch itself only fenced and compared; the child, with the lock, did the rest.
        expect(fake.namesBy(handle.workflowId, 'acquireClusterLock', ...CHANGES)).toEqual([]);
        const child = rejoinId(fake);
        expect(fake.namesBy(child, 'acquireClusterLock', 'repoint', 'releaseClusterLock')).toEqual([
          'acquireClusterLock',
          'repoint',
          'repoint',
          'releaseClusterLock',
        ]);
        expect(fake.callsOf('repoint')).toEqual([
          { cluster: fake.name, host: 'db1', source: 'db2', demote: true },
          { cluster: fake.name, host: 'db2', source: 'db1', writer: true },
        ]);
        const described = await ctx.client.workflow.getHandle(child).describe();
        expect(described.status.name).toBe('COMPLETED');
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.node('db1').replication?.source).toBe('db2');
        expect(fake.node('db2').replication?.source).toBe('db1');
        expect(fake.lock).toBeUndefined();
      });
    },
  );

  test.concurrent(
    'the old primary holds transactions the new one lacks: fenced and reported, not rejoined, nothing repointed',
    async () => {
      const fake = deadSide('0-1-105');
      await withWorker(fake, async (ctx) => {
        const handle = await watch(ctx, true);
        await until('a fence attempt', () => fake.called('fenceOldPrimary'));
        comeBack(fake);
        const r = await handle.result();
        expect(r.lost).toMatchObject({ known: true, lost: true, gtids: '0-1-105' });
        expect(r.rejoin).toMatch(/^not rejoined: transactions committed on db1 never reached db2: /);
        expect(r.rejoin).toContain('0-1-105');
        expect(fake.names('acquireClusterLock', ...CHANGES)).toEqual([]);
        await expect(ctx.client.workflow.getHandle(rejoinId(fake)).describe()).rejects.toBeInstanceOf(
          WorkflowNotFoundError,
        );
        expect(fake.writers()).toEqual(['db2']);
        expect(fake.node('db1').readOnly).toBe(true);
      });
    },
  );

  for (const [what, input] of [
    ['false', false],
    ['absent', undefined],
  ] as const)
    test.concurrent(`rejoin ${what}: fenced and compared, no rejoin child`, async () => {
      const fake = recoveredPair();
      fake.set('db1', { readOnly: false });
      await withWorker(fake, async (ctx) => {
        const r = await (await watch(ctx, input)).result();
        expect(r.fence).toMatchObject({ host: 'db1', readOnly: { status: 'done' } });
        expect(r.lost).toMatchObject({ known: true, lost: false });
        expect(r).not.toHaveProperty('rejoin');
        expect(fake.names('acquireClusterLock', ...CHANGES)).toEqual([]);
        await expect(ctx.client.workflow.getHandle(rejoinId(fake)).describe()).rejects.toBeInstanceOf(
          WorkflowNotFoundError,
        );
        expect(fake.node('db1').readOnly).toBe(true);
      });
    });
});
