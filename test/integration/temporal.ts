// Helpers for integration tests on the run's shared dev server (see globalSetup).
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { createWorker, type SuccessoverWorker } from '../../worker/index';
import { fenceWatchId } from '../../workflows/api';
import { recordHistories } from '../replay/record';
import { testEnv } from './testEnv';

let client: Promise<Client> | undefined;
let nativeConnection: Promise<NativeConnection> | undefined;

/** A client on the shared dev server; one per test file, closed after the file's tests. */
export function testClient(): Promise<Client> {
  client ??= Connection.connect({ address: testEnv('address') }).then(
    (connection) => new Client({ connection, namespace: testEnv('namespace') }),
  );
  return client;
}

function workerConnection(): Promise<NativeConnection> {
  nativeConnection ??= NativeConnection.connect({ address: testEnv('address') });
  return nativeConnection;
}

// When recording the replay suite's histories (scripts/record-histories.sh): this file's runs.
const fileStarted = new Date();

afterAll(async () => {
  try {
    if (client) await recordHistories(await client, fileStarted, expect.getState().testPath ?? 'unknown');
  } finally {
    await (await client)?.connection.close();
    await (await nativeConnection)?.close();
    client = nativeConnection = undefined;
  }
});

export interface WithWorkerContext {
  client: Client;
  /** A task queue of this worker alone: start workflows on it. */
  taskQueue: string;
  worker: SuccessoverWorker;
}

export interface WithWorkerOptions {
  /** Where the inventory's passwordEnv secrets are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The worker's own logger; default pino at LOG_LEVEL (warn). */
  logger?: Logger;
}

/**
 * Runs fn while a successover worker (prebuilt bundle, the given inventory) polls a fresh task
 * queue; shuts the worker down afterwards, also when fn throws.
 */
export async function withWorker<R>(
  inventoryPath: string,
  fn: (ctx: WithWorkerContext) => Promise<R>,
  opts: WithWorkerOptions = {},
): Promise<R> {
  const taskQueue = `test-${randomUUID()}`;
  const c = await testClient();
  const worker = await createWorker({
    inventoryPath,
    connection: await workerConnection(),
    client: c,
    namespace: testEnv('namespace'),
    taskQueue,
    workflowBundle: { codePath: testEnv('bundle') },
    env: opts.env,
    logger: opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
  });
  return worker.runUntil(() => fn({ client: c, taskQueue, worker }));
}

/**
 * Ends the lab cluster's fence watches on these hosts, if any run: a recovery's watch outlives
 * its test otherwise, and its id is every lab's (they are all cluster "lab").
 */
export async function endFenceWatches(hosts: string[]): Promise<void> {
  const client = await testClient();
  for (const host of hosts)
    await client.workflow
      .getHandle(fenceWatchId('lab', host))
      .terminate('test over')
      .catch(() => undefined);
}
