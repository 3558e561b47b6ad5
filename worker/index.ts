// Builds the successover worker: inventory and secrets loaded here, on the worker side, and handed
// to the activities; workflows see only names and secret-free specs. The CLI and the tests share it.
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, ActivityResources } from '../activities';
import type { Inventory } from '../domain/inventory';
import { runMetricsSinks } from '../metrics/runSink';
import { startEmergencyRecovery } from '../triggers/start';
import { InventoryFile } from './inventoryFile';
import { activityLogContext, workerLogger } from './logging';
import { resolveSecrets } from './secrets';
import { DEFAULT_TASK_QUEUE } from './taskQueue';

export { DEFAULT_TASK_QUEUE };
/** Entry point of the workflow bundle. */
export const WORKFLOWS_PATH = join(__dirname, '..', 'workflows', 'index.ts');
/**
 * Workflow interceptors (run metrics, log context). A prebuilt bundle must be made with them
 * (bundleWorkflowCode's workflowInterceptorModules): the worker ignores them for a bundle.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [join(__dirname, '..', 'workflows', 'interceptors.ts')];
/**
 * Modules the bundle evaluates once per worker thread and shares, frozen, with every run:
 * workflows/preload.ts says which and why. (Named by path: zod itself, marked free of side
 * effects, would be dropped from the preload by the bundler.) A prebuilt bundle is made with them
 * too (bundleWorkflowCode's preloadModules).
 */
export const WORKFLOW_PRELOAD_MODULES = [join(__dirname, '..', 'workflows', 'preload.ts')];

export interface CreateWorkerOptions {
  inventoryPath: string;
  connection: NativeConnection;
  /** For activities that talk to Temporal (the cluster lock). */
  client: Client;
  taskQueue?: string;
  namespace?: string;
  /** A bundle made once by bundleWorkflowCode (tests); omitted: workflows/ is bundled now (~1.5 s). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Where passwordEnv secrets are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** On shutdown, how long activities under way may finish before they are cancelled; default 0. */
  shutdownGraceSeconds?: number;
}

export interface SuccessoverWorker {
  worker: Worker;
  inventory: Inventory;
  taskQueue: string;
  /** Polls until shutdown() (or a signal the Runtime handles), then releases activity resources. */
  run(): Promise<void>;
  /** Polls while fn runs, then shuts down and releases activity resources. */
  runUntil<R>(fn: Promise<R> | (() => Promise<R>)): Promise<R>;
  shutdown(): void;
}

/**
 * Activities one workflow task may take eagerly: emergency recovery's first task schedules five
 * (lock, SSH warm-up, discovery, probe, last recovery), all on the path to the promotion.
 */
export const EAGER_ACTIVITIES_PER_TASK = 8;

/** The SDK's default: what runbook activities keep whatever the detectors hold. */
export const RUNBOOK_ACTIVITY_SLOTS = 100;

/**
 * Activity slots: a detector's watch holds one for minutes at a time (activities/watch.ts), so past
 * 100 watched clusters a worker would give every slot to watches, and an emergency recovery's
 * activities would wait behind them. One detector runs per cluster at most (its workflow id), and
 * every watch may land on this worker: one slot per cluster on top of the runbooks' own. Counted
 * from the inventory at start: clusters added later take runbook slots until a restart.
 */
export function activitySlots(inventory: Inventory): number {
  return RUNBOOK_ACTIVITY_SLOTS + inventory.clusters.length;
}

export async function createWorker(opts: CreateWorkerOptions): Promise<SuccessoverWorker> {
  const log = opts.logger ?? workerLogger();
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const inventoryFile = new InventoryFile(opts.inventoryPath, (m) => log.warn(m));
  const inventory = inventoryFile.current;
  const secrets = resolveSecrets(inventory, opts.inventoryPath, opts.env ?? process.env);
  const resources = new ActivityResources();
  const activities = createActivities(
    {
      get inventory() {
        return inventoryFile.current;
      },
      inventoryFile,
      secrets,
      temporal: {
        client: opts.client,
        taskQueue,
        startEmergencyRecovery: (input) => startEmergencyRecovery(opts.client, taskQueue, input),
      },
    },
    resources,
  );
  const activity = [activityLogContext];
  // A prebuilt bundle holds the workflow interceptors already; naming them again only warns.
  const code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions' | 'interceptors'> =
    opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle, interceptors: { activity } }
      : {
          workflowsPath: WORKFLOWS_PATH,
          bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES },
          interceptors: { activity, workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
        };
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace ?? 'default',
      taskQueue,
      activities,
      ...code,
      sinks: runMetricsSinks(),
      maxConcurrentActivityTaskExecutions: activitySlots(inventory),
      // The SDK sends heartbeats at most every 0.8 × heartbeatTimeout by default: a copy's bytes
      // and phase reached the UI (Pending Activities) every 12 s. Once a second is cheap and live.
      maxHeartbeatThrottleInterval: '1 second',
      // Eager activities (SERVER_DYNAMIC_CONFIG): the SDK's 3 left emergency recovery's probe to the task queue.
      maxEagerActivityReservationsPerWorkflowTask: EAGER_ACTIVITIES_PER_TASK,
      ...(opts.shutdownGraceSeconds ? { shutdownGraceTime: opts.shutdownGraceSeconds * 1000 } : {}),
    });
  } catch (e) {
    await resources.close();
    throw e;
  }
  const release = async () => {
    try {
      await resources.close();
    } catch (e) {
      log.warn({ err: e }, 'activity resources did not close cleanly');
    }
  };
  return {
    worker,
    inventory,
    taskQueue,
    async run() {
      try {
        await worker.run();
      } finally {
        await release();
      }
    },
    async runUntil(fn) {
      try {
        return await worker.runUntil(fn);
      } finally {
        await release();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}
