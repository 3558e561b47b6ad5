// drain-host with the real workflow code: live facts of the clusters on a machine (read from the
// fakes), the plan, and a planned successover per move whose target is never on the machine.
import { randomUUID } from 'node:crypto';
import type { DrainHostInput } from '../../../domain/fleet/input';
import { drainHost } from '../../../workflows';
import { drainWorkflowId, type FleetResult } from '../../../workflows/api';
import { failureOf } from './env';
import { FakeCluster } from './fakeCluster';
import { withFleetWorker, type FleetContext } from './fleetWorker';

const on = (machines: string[], more: Record<string, Record<string, unknown>> = {}) =>
  Object.fromEntries(machines.map((m, i) => [`db${i + 1}`, { machine: m, ...more[`db${i + 1}`] }]));

/**
 * movable: primary on m1, db2 on m2, db3 on m1 (ranked first: promotion prefer);
 * stuck: primary and its one replica on m1; replicaOnly: only a replica on m1;
 * lagging: primary on m1, its replica on m3 lags.
 */
function machines() {
  const movable = new FakeCluster({
    prefix: 'drain',
    hostFields: on(['m1', 'm2', 'm1'], { db3: { promotion: 'prefer' } }),
  });
  const stuck = new FakeCluster({ prefix: 'drain', hosts: 2, hostFields: on(['m1', 'M1']) });
  const replicaOnly = new FakeCluster({ prefix: 'drain', hosts: 2, hostFields: on(['m2', 'm1']) });
  const lagging = new FakeCluster({ prefix: 'drain', hosts: 2, hostFields: on(['m1', 'm3']) });
  lagging.set('db2', { replication: { ...lagging.node('db2').replication!, lagSeconds: 100 } });
  return { movable, stuck, replicaOnly, lagging, all: [movable, stuck, replicaOnly, lagging] };
}

function start(ctx: FleetContext, input: Partial<DrainHostInput> & { machine: string }) {
  return ctx.client.workflow.start(drainHost, {
    // Each test's own id: the machine names repeat across tests.
    workflowId: `${drainWorkflowId(input.machine)}/${randomUUID()}`,
    taskQueue: ctx.taskQueue,
    args: [{ concurrency: 2, ...input }],
  });
}

const byCluster = (r: FleetResult) => Object.fromEntries(r.clusters.map((c) => [c.cluster, c]));

describe('drain-host', () => {
  test('every primary on the machine moves to a healthy replica elsewhere; the others are listed', async () => {
    const m = machines();
    await withFleetWorker(m.all, {}, async (ctx) => {
      const r = await (await start(ctx, { machine: 'm1' })).result();
      expect(r).toMatchObject({ ok: true, kind: 'drain-host', subject: 'm1', ended: 'completed' });
      const c = byCluster(r);
      // db3 ranks first but runs on m1: the move goes to db2.
      expect(c[m.movable.name]).toMatchObject({
        status: 'done',
        detail: 'db1 → db2, 42 ms of write blackout',
      });
      expect(m.movable.writers()).toEqual(['db2']);
      expect(c[m.stuck.name].status).toBe('refused');
      expect(c[m.stuck.name].detail).toMatch(
        /^primary db1 runs on m1 and no healthy replica runs on another machine \(db2 is healthy but on m1 too\)/,
      );
      expect(c[m.lagging.name].detail).toMatch(/no replica is healthy/);
      expect(c[m.replicaOnly.name]).toMatchObject({ status: 'skipped' });
      expect(c[m.replicaOnly.name].detail).toMatch(/only replicas on m1 \(db2\)/);
      expect(r.refused.sort()).toEqual([m.stuck.name, m.lagging.name].sort());
      // The one child had the plan's candidates and the machine, and no other cluster was touched.
      const child = ctx.client.workflow.getHandle(`planned-successover/${m.movable.name}`);
      const started = (await child.fetchHistory()).events![0].workflowExecutionStartedEventAttributes!;
      expect(JSON.parse(Buffer.from(started.input!.payloads![0].data!).toString())).toMatchObject({
        cluster: m.movable.name,
        candidates: ['db2'],
        avoidMachine: 'm1',
      });
      expect([m.stuck, m.replicaOnly, m.lagging].flatMap((f) => f.calls)).toEqual([]);
      const facts = ctx.fleetCalls.find((x) => x.name === 'planDrain')!.arg as { facts: unknown[] };
      expect(facts.facts).toContainEqual({
        cluster: m.movable.name,
        primary: 'db1',
        healthyReplicas: ['db2', 'db3'],
      });
    });
  });

  test('a machine unknown to the inventory, or running no primary, refuses the whole drain', async () => {
    const m = machines();
    await withFleetWorker(m.all, {}, async (ctx) => {
      const unknown = await failureOf(await start(ctx, { machine: 'm9' }));
      expect(unknown.type).toBe('Refused');
      expect(unknown.message).toMatch(/^drain-host on m9 refused, nothing was changed: unknown machine "m9"/);
      const replicas = await failureOf(await start(ctx, { machine: 'm3' }));
      expect(replicas.message).toMatch(/no primary runs on m3: nothing to drain/);
      expect(m.all.flatMap((f) => f.calls)).toEqual([]);
    });
  });

  test('a dry run plans and runs each move as a dry run: nothing changes', async () => {
    const m = machines();
    await withFleetWorker(m.all, {}, async (ctx) => {
      const r = await (await start(ctx, { machine: 'm1', dryRun: true })).result();
      expect(byCluster(r)[m.movable.name].detail).toBe('dry run: db1 → db2, nothing changed');
      expect(m.movable.called('runCriticalSection')).toBe(false);
      expect(m.movable.writers()).toEqual(['db1']);
    });
  });

  test('bad limits are refused before the discovery', async () => {
    const m = machines();
    await withFleetWorker(m.all, {}, async (ctx) => {
      const f = await failureOf(await start(ctx, { machine: 'm1', maxFailures: -1 }));
      expect(f.type).toBe('BadInput');
      expect(f.message).toMatch(/--max-failures: expected a whole number of at least 0/);
      expect(ctx.fleetCalls).toEqual([]);
    });
  });
});
