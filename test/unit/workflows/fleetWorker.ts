// A worker for one fleet test: the fleet's first steps are the real activities (activities/fleet.ts)
// over an inventory made of the test's fake clusters, and every other activity (the children's) is
// routed by its `cluster` to that cluster's FakeCluster. One worker per test, on its own task
// queue: the fleet activities name no cluster, so tests cannot share a worker as env.ts's do.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker, type InjectedSinks } from '@temporalio/worker';
import { createFleetActivities } from '../../../activities/fleet';
import type { Inventory } from '../../../domain/inventory';
import type { RunMetricsSinks } from '../../../workflows/interceptors';
// The SDK's logger, the test timeout and the connections, as every workflow test file has them.
import { connect } from './env';
import { FakeCluster } from './fakeCluster';
import { workflowTestEnv } from './sharedServer';

export interface FleetContext {
  client: Client;
  taskQueue: string;
  fakes: FakeCluster[];
  inventory: Inventory;
  /** The worker's fleet activity calls, in order (name and argument). */
  fleetCalls: { name: string; arg: unknown }[];
}

const noSinks: InjectedSinks<RunMetricsSinks> = {
  runMetrics: { started: { fn: () => undefined }, ended: { fn: () => undefined } },
};

/** The fakes as an inventory, each with its labels. */
export function inventoryOf(fakes: FakeCluster[], labels: Record<string, string>[] = []): Inventory {
  return {
    clusters: fakes.map((f, i) => ({ ...f.spec, ...(labels[i] ? { labels: labels[i] } : {}) })),
    credentials: {
      mysql: { user: 'so', passwordEnv: 'X' },
      replication: { user: 'r', passwordEnv: 'Y' },
    },
  } as Inventory;
}

export async function withFleetWorker<R>(
  fakes: FakeCluster[],
  opts: { labels?: Record<string, string>[] },
  fn: (ctx: FleetContext) => Promise<R>,
): Promise<R> {
  const { client, native } = await connect();
  const inventory = inventoryOf(fakes, opts.labels);
  const byName = new Map(fakes.map((f) => [f.name, { fake: f, activities: f.activities() }]));
  const fleetCalls: FleetContext['fleetCalls'] = [];
  const fleetActs = createFleetActivities(
    { inventory },
    {
      discover: async (cluster) => {
        const fake = byName.get(cluster)?.fake;
        if (!fake) throw new Error(`no fake cluster ${cluster}`);
        return [...fake.nodes.values()].map((n) => structuredClone(n));
      },
    },
  );
  const recorded = Object.fromEntries(
    Object.entries(fleetActs).map(([name, f]) => [
      name,
      (arg: never) => {
        fleetCalls.push({ name, arg });
        return (f as (a: never) => Promise<unknown>)(arg);
      },
    ]),
  );
  const routed = (name: string) => async (arg: never) => {
    const cluster = (arg as { cluster?: unknown } | undefined)?.cluster;
    const entry = typeof cluster === 'string' ? byName.get(cluster) : undefined;
    if (!entry)
      throw ApplicationFailure.create({
        type: 'NotMocked',
        message: `activity ${name}: no fake cluster named ${String(cluster)} in this test`,
        nonRetryable: true,
      });
    return (entry.activities[name] ?? entry.activities.default)(arg);
  };
  const names = Object.keys(new FakeCluster().activities()).filter((n) => n !== 'default');
  const taskQueue = `fleet-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: native,
    namespace: workflowTestEnv('namespace'),
    taskQueue,
    workflowBundle: { codePath: workflowTestEnv('bundle') },
    activities: { ...Object.fromEntries(names.map((n) => [n, routed(n)])), ...recorded },
    sinks: noSinks,
    shutdownGraceTime: '1 second',
    shutdownForceTime: '3 seconds',
  });
  const running = worker.run();
  try {
    return await fn({ client, taskQueue, fakes, inventory, fleetCalls });
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
  }
}

/** A promise a mock waits on, and its release. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}
