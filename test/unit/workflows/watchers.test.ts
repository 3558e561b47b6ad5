// The detector and the fence watch, with the real workflow code and the fake cluster's activities.
import { startEmergencyRecovery } from '../../../triggers/start';
import { detector, emergencyRecovery, fenceWatch } from '../../../workflows';
import { detectorId, fenceWatchId, workflowIdFor } from '../../../workflows/api';
import { RUNBOOKS } from '../../../domain/runbook';
import { until, withWorker, type WorkerContext } from './env';
import { FakeCluster } from './fakeCluster';

function startDetector(ctx: WorkerContext, input: { probes?: number; cooldownSeconds?: number } = {}) {
  return ctx.client.workflow.start(detector, {
    workflowId: detectorId(ctx.fake.name),
    taskQueue: ctx.taskQueue,
    args: [{ cluster: ctx.fake.name, intervalSeconds: 0.05, probes: 2, cooldownSeconds: 600, ...input }],
  });
}

describe('detector', () => {
  test.concurrent(
    'probes failing in a row start one emergency recovery, which recovers the cluster',
    async () => {
      const fake = new FakeCluster();
      await withWorker(fake, async (ctx) => {
        // The real trigger: the same start (and join) as the webhook's, on this worker's queue.
        let starting!: Promise<unknown>;
        fake.mocks.startRecovery = (input) =>
          (starting = startEmergencyRecovery(ctx.client, ctx.taskQueue, { ...input, probeIntervalMs: 50 }));
        const handle = await startDetector(ctx);
        try {
          await until('the detector watches db1', () => fake.callsOf('probePrimary').length >= 3);
          expect(fake.names('startRecovery')).toEqual([]); // a healthy primary: nothing started
          fake.kill('db1');
          await until('a recovery started', () => fake.called('startRecovery'));
          await starting;
          const [started] = fake.callsOf('startRecovery');
          expect(started).toMatchObject({ cluster: fake.name, primary: 'db1', source: { kind: 'detector' } });
          expect(started.reason).toMatch(/^detector: db1 failed 2 probes in a row/);
          const r = await ctx.client.workflow
            .getHandle<typeof emergencyRecovery>(workflowIdFor(RUNBOOKS.emergency, fake.name))
            .result();
          expect(r).toMatchObject({ outcome: 'recovered', primary: 'db1' });
          expect(r.timeline[0]).toMatchObject({ step: 'detector trigger received' });
          // Cooling down: no second recovery for the same failure.
          await new Promise((res) => setTimeout(res, 300));
          expect(fake.names('startRecovery')).toEqual(['startRecovery']);
        } finally {
          await handle.terminate('test over');
          await ctx.client.workflow
            .getHandle(fenceWatchId(fake.name, 'db1'))
            .terminate('test over')
            .catch(() => undefined);
        }
      });
    },
  );

  test.concurrent('a failed probe followed by an answer resets the count: no recovery', async () => {
    const fake = new FakeCluster();
    let n = 0;
    fake.mocks.probePrimary = () => [
      n++ % 2 === 0
        ? { ok: false, at: new Date().toISOString(), error: 'ETIMEDOUT' }
        : { ok: true, at: new Date().toISOString() },
    ];
    await withWorker(fake, async (ctx) => {
      const handle = await startDetector(ctx);
      try {
        await until('six probes', () => fake.callsOf('probePrimary').length >= 6);
        expect(fake.names('startRecovery')).toEqual([]);
        expect(fake.callsOf('probePrimary').every((p) => p.host === 'db1' && p.probes === 1)).toBe(true);
      } finally {
        await handle.terminate('test over');
      }
    });
  });

  test.concurrent(
    'replicas that lost the primary too: the recovery starts at the first failure, asked for one probe',
    async () => {
      const fake = new FakeCluster();
      fake.mocks.watchPrimary = ({ failures = 0 }) => ({
        down: true as const,
        confirmedByReplicas: true,
        failures: failures + 1,
        probes: [{ ok: false, at: new Date().toISOString(), error: 'ECONNREFUSED' }],
        reason: 'the replicas lost it too',
        evidence: [],
      });
      fake.mocks.startRecovery = () => ({ workflowId: 'recovery', runId: 'r-1', started: true });
      await withWorker(fake, async (ctx) => {
        const handle = await startDetector(ctx, { probes: 5 });
        try {
          await until('a recovery started', () => fake.called('startRecovery'));
          const [started] = fake.callsOf('startRecovery');
          expect(started.reason).toBe(
            'detector: db1 failed a probe and its replicas lost it too (ECONNREFUSED)',
          );
          expect(started.probes).toBe(1);
          expect(fake.callsOf('watchPrimary')).toHaveLength(1);
        } finally {
          await handle.terminate('test over');
        }
      });
    },
  );

  test.concurrent('a primary that turns read-only is looked for again, then watched', async () => {
    const fake = new FakeCluster();
    let watches = 0;
    fake.mocks.watchPrimary = async ({ host }) => {
      // The first watch sees db1 demoted (a planned successover moved the role to db2).
      if (watches++ === 0) {
        fake.set('db1', { readOnly: true });
        fake.set('db2', { readOnly: false, replication: null });
        return { down: false as const, demoted: true, failures: 0 };
      }
      expect(host).toBe('db2');
      await new Promise((r) => setTimeout(r, 50));
      return { down: false as const, demoted: false, failures: 0 };
    };
    await withWorker(fake, async (ctx) => {
      const handle = await startDetector(ctx);
      try {
        await until('db2 watched', () => fake.callsOf('watchPrimary').some((w) => w.host === 'db2'));
        expect(fake.callsOf('watchPrimary')[0].host).toBe('db1');
        expect(fake.callsOf('inspectCluster').length).toBe(2); // found db1, then db2
        expect(fake.names('startRecovery')).toEqual([]);
      } finally {
        await handle.terminate('test over');
      }
    });
  });

  test.concurrent('no single primary (two writers): it waits and probes nothing', async () => {
    const fake = new FakeCluster();
    fake.set('db2', { readOnly: false, replication: null });
    await withWorker(fake, async (ctx) => {
      const handle = await startDetector(ctx);
      try {
        await until('three looks', () => fake.callsOf('inspectCluster').length >= 3);
        expect(fake.names('probePrimary', 'startRecovery')).toEqual([]);
      } finally {
        await handle.terminate('test over');
      }
    });
  });
});

describe('fence watch', () => {
  const watch = (ctx: WorkerContext, untilIso: string) =>
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
          untilIso,
        },
      ],
    });

  test.concurrent(
    'the old primary answers again: fenced, and what it has that the new primary lacks is reported',
    async () => {
      const fake = new FakeCluster();
      fake.kill('db1');
      fake.set('db2', { readOnly: false, replication: null });
      await withWorker(fake, async (ctx) => {
        const handle = await watch(ctx, new Date(Date.now() + 600_000).toISOString());
        await until('two fence attempts', () => fake.callsOf('fenceOldPrimary').length >= 2);
        expect(fake.names('gtidPosition')).toEqual([]); // nothing to compare while it is down
        fake.set('db1', {
          reachable: true,
          readOnly: false,
          error: undefined,
          gtidExecuted: '0-1-102',
          gtidHistory: '0-1-102',
        });
        const r = await handle.result();
        expect(r.fence).toMatchObject({ host: 'db1', readOnly: { status: 'done' } });
        expect(r.lost).toMatchObject({ known: true, lost: true });
        expect(JSON.stringify(r.lost)).toContain('0-1-102');
        expect(fake.node('db1').readOnly).toBe(true);
        expect(
          fake
            .callsOf('gtidPosition')
            .map((c) => c.host)
            .sort(),
        ).toEqual(['db1', 'db2']);
      });
    },
  );

  test.concurrent('the old primary never answers before untilIso: gives up, nothing known', async () => {
    const fake = new FakeCluster();
    fake.kill('db1');
    await withWorker(fake, async (ctx) => {
      const r = await (await watch(ctx, new Date(Date.now() - 1000).toISOString())).result();
      expect(r.fence).toBeNull();
      expect(r.lost).toMatchObject({ known: false });
      expect(r.lost.summary).toContain('db1 did not answer before');
      expect(fake.calls).toEqual([]);
    });
  });
});
