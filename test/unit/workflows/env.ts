// What a workflow test file needs: a client and a worker connection to the run's shared dev
// server (see globalSetup), one worker per file with the real workflow bundle serving each test's
// FakeCluster, and small helpers to wait for a phase, read a failure or an update's rejection.
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import type { RunMetricsSinks, RunOutcome } from '../../../workflows/interceptors';
import { progressQuery, type Progress } from '../../../workflows/api';
import { FakeCluster } from './fakeCluster';
import { workflowTestEnv } from './sharedServer';

// Before any connection of this file: SDK logs only when they are errors (the tests provoke
// activity failures on purpose).
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // installed already
}

// A workflow test waits seconds at most (durations are inputs); a hung one fails fast.
jest.setTimeout(60_000);

let connections: Promise<{ client: Client; native: NativeConnection }> | undefined;

/** This test file's client and worker connections to the shared server, closed after its tests. */
export function connect() {
  connections ??= (async () => {
    const address = workflowTestEnv('address');
    const [connection, native] = await Promise.all([
      Connection.connect({ address }),
      NativeConnection.connect({ address }),
    ]);
    return { client: new Client({ connection, namespace: workflowTestEnv('namespace') }), native };
  })();
  return connections;
}

/** What the runMetrics sink (workflows/interceptors.ts) reported, per workflow. */
export interface RunReport {
  workflowId: string;
  workflowType: string;
  event: 'started' | 'ended';
  runbook: string;
  cluster: string;
  outcome?: RunOutcome;
}

export interface WorkerContext {
  client: Client;
  /** The file's worker's task queue: start workflows on it. */
  taskQueue: string;
  fake: FakeCluster;
  /** What the runMetrics sink reported for runs on this fake's cluster. */
  runs: RunReport[];
}

/**
 * One worker per test file (creating one costs ~0.5 s: the bundle is loaded into a new context),
 * polling a task queue of this file alone. Tests run concurrently on it: each has its own
 * FakeCluster, whose name is unique, and every activity is routed by its argument's `cluster` to
 * that test's fake. Workflow ids contain the cluster name, so runs of different tests never meet.
 */
interface SharedWorker {
  client: Client;
  taskQueue: string;
  worker: Worker;
  running: Promise<void>;
}

const fakes = new Map<
  string,
  { fake: FakeCluster; activities: Record<string, (arg: never) => Promise<unknown>>; runs: RunReport[] }
>();
let shared: Promise<SharedWorker> | undefined;

function routed(name: string) {
  return async (arg: never) => {
    const cluster = (arg as { cluster?: unknown } | undefined)?.cluster;
    const entry = typeof cluster === 'string' ? fakes.get(cluster) : undefined;
    if (!entry)
      throw ApplicationFailure.create({
        type: 'NotMocked',
        message: `activity ${name}: no fake cluster named ${String(cluster)} in this test file`,
        nonRetryable: true,
      });
    return (entry.activities[name] ?? entry.activities.default)(arg);
  };
}

function sharedWorker(): Promise<SharedWorker> {
  shared ??= (async () => {
    const { client, native } = await connect();
    const taskQueue = `wf-test-${randomUUID()}`;
    const report = (entry: RunReport) => fakes.get(entry.cluster)?.runs.push(entry);
    const sinks: InjectedSinks<RunMetricsSinks> = {
      runMetrics: {
        started: {
          fn: (info, run) => {
            report({
              workflowId: info.workflowId,
              workflowType: info.workflowType,
              event: 'started',
              ...run,
            });
          },
          callDuringReplay: false,
        },
        ended: {
          fn: (info, run, outcome) => {
            report({
              workflowId: info.workflowId,
              workflowType: info.workflowType,
              event: 'ended',
              outcome,
              ...run,
            });
          },
          callDuringReplay: false,
        },
      },
    };
    // Every activity the fake knows, each routed to the fake of the cluster it names.
    const names = Object.keys(new FakeCluster().activities()).filter((n) => n !== 'default');
    const activities = Object.fromEntries(names.map((n) => [n, routed(n)]));
    activities.default = async () => {
      throw ApplicationFailure.create({
        type: 'NotMocked',
        message: `activity ${Context.current().info.activityType} has no fake: add it to test/unit/workflows/fakeCluster.ts`,
        nonRetryable: true,
      });
    };
    const worker = await Worker.create({
      connection: native,
      namespace: workflowTestEnv('namespace'),
      taskQueue,
      workflowBundle: { codePath: workflowTestEnv('bundle') },
      activities,
      sinks,
      // A test that fails while a mock holds an activity must not hang the shutdown.
      shutdownGraceTime: '1 second',
      shutdownForceTime: '3 seconds',
    });
    const running = worker.run();
    return { client, taskQueue, worker, running };
  })();
  return shared;
}

afterAll(async () => {
  const w = await shared?.catch(() => undefined);
  shared = undefined;
  if (w) {
    w.worker.shutdown();
    await w.running.catch(() => undefined);
  }
  const c = await connections;
  connections = undefined;
  await c?.client.connection.close();
  await c?.native.close();
});

/** Runs fn with the file's worker serving `fake`'s cluster (see SharedWorker). */
export async function withWorker<R>(fake: FakeCluster, fn: (ctx: WorkerContext) => Promise<R>): Promise<R> {
  const { client, taskQueue } = await sharedWorker();
  const runs: RunReport[] = [];
  fakes.set(fake.name, { fake, activities: fake.activities(), runs });
  // The fake stays registered: a run the test left behind (a fence watch) may still call it.
  return fn({ client, taskQueue, fake, runs });
}

/** Polls the runbook's `progress` query until its phase is `phase` (or the run ends). */
export async function waitForPhase(
  handle: WorkflowHandle,
  phase: string,
  timeoutMs = 15_000,
): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  for (;;) {
    try {
      last = await handle.query(progressQuery);
      if (last.phase === phase) return last;
    } catch {
      // not started yet (no handler before the first workflow task)
    }
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING')
      throw new Error(
        `${handle.workflowId} ended (${status.name}) in phase ${last?.phase}, never reached ${phase}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `${handle.workflowId} did not reach phase ${phase} within ${timeoutMs} ms (at ${last?.phase})`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until cond() holds (state the activities changed, calls recorded). */
export async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** How a run failed: the failure chain from the workflow's own down to the root cause. */
export interface RunFailure {
  /** The workflow's failure (first link). */
  type: string | undefined;
  message: string;
  /** The deepest ApplicationFailure's type and message (an activity's or a child's). */
  rootType: string | undefined;
  rootMessage: string;
  /** Each link: its class and, for application failures, its type. */
  chain: string[];
  /** The workflow's failure itself. */
  failure: TemporalFailure;
}

/** Awaits the run, expects it to fail, and unfolds the failure. */
export async function failureOf(handle: WorkflowHandle): Promise<RunFailure> {
  try {
    const r = await handle.result();
    throw new Error(`expected ${handle.workflowId} to fail; it returned ${JSON.stringify(r).slice(0, 500)}`);
  } catch (e) {
    if (!(e instanceof WorkflowFailedError) || !(e.cause instanceof TemporalFailure)) throw e;
    const chain: string[] = [];
    let root: ApplicationFailure | undefined;
    for (let f: unknown = e.cause; f instanceof TemporalFailure; f = f.cause) {
      if (f instanceof ApplicationFailure) {
        root = f;
        chain.push(`ApplicationFailure(${f.type})`);
      } else if (f instanceof ActivityFailure) chain.push(`ActivityFailure(${f.activityType})`);
      else if (f instanceof ChildWorkflowFailure)
        chain.push(`ChildWorkflowFailure(${f.execution.workflowId})`);
      else chain.push(f.constructor.name);
    }
    const first = e.cause;
    return {
      type: first instanceof ApplicationFailure ? (first.type ?? undefined) : undefined,
      message: first.message,
      rootType: root?.type ?? undefined,
      rootMessage: root?.message ?? first.message,
      chain,
      failure: first,
    };
  }
}

/** The reason an update was rejected (its validator's or handler's error message). */
export async function rejection(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause) return e.cause.message;
    throw e;
  }
  throw new Error('expected the update to be rejected; it was accepted');
}
