// Builds the successover worker: inventory and secrets loaded here, on the worker side, and handed
// to the activities; workflows see only names and secret-free specs. The CLI and the tests share it.
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { createActivities, ActivityResources } from '../activities';
import type { Inventory } from '../domain/inventory';
import { loadInventory } from './inventory';
import { resolveSecrets } from './secrets';

export const DEFAULT_TASK_QUEUE = 'successover';
/** Entry point of the workflow bundle. */
export const WORKFLOWS_PATH = join(__dirname, '..', 'workflows', 'index.ts');

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

export async function createWorker(opts: CreateWorkerOptions): Promise<SuccessoverWorker> {
  const log = opts.logger ?? pino({ name: 'successover-worker' });
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const inventory = loadInventory(opts.inventoryPath);
  const secrets = resolveSecrets(inventory, opts.inventoryPath, opts.env ?? process.env);
  const resources = new ActivityResources();
  const activities = createActivities(
    { inventory, secrets, temporal: { client: opts.client, taskQueue } },
    resources,
  );
  const code = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : { workflowsPath: WORKFLOWS_PATH };
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace ?? 'default',
      taskQueue,
      activities,
      ...code,
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
