// `successover webhook serve`: the alert receiver as a long-running process. Logs are JSON lines
// (pino) on stdout without headers or secrets; SIGINT/SIGTERM stop accepting, let requests under
// way finish, then close the Temporal connection.
import type { Client } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { connectClient } from '../temporal/connection';
import { startEmergencyRecovery } from '../triggers/start';
import { DEFAULT_TASK_QUEUE } from '../worker/taskQueue';
import { InventoryError } from '../worker/loadInventory';
import { InventoryFile } from '../worker/inventoryFile';
import { buildReceiver, ROUTES } from './server';
import { resolveWebhookSecrets } from './secrets';

export interface ReceiverMainOptions {
  inventoryPath: string;
  host?: string;
  port?: number;
  /** The workers' task queue: the recoveries are started there. */
  taskQueue?: string;
  /** Where TEMPORAL_* and the secrets' variables are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface RunningReceiver {
  /** http://host:port */
  url: string;
  client: Client;
  log: Logger;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';

export function receiverLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  // No header is logged; the redaction is a second guard should one ever be.
  return pino({
    name: 'successover-webhook',
    level: env.LOG_LEVEL ?? 'info',
    redact: ['req.headers.authorization', 'headers.authorization', '*.headers.authorization'],
  });
}

/** Loads the inventory and secrets, connects to Temporal and listens. */
export async function startReceiver(o: ReceiverMainOptions): Promise<RunningReceiver> {
  const env = o.env ?? process.env;
  const log = o.logger ?? receiverLogger(env);
  const taskQueue = o.taskQueue ?? DEFAULT_TASK_QUEUE;
  const inventoryFile = new InventoryFile(o.inventoryPath, (m) => log.warn(m));
  const inventory = inventoryFile.current;
  if (!inventory.webhook)
    throw new InventoryError(
      'invalid',
      ['webhook: missing: add a webhook section with tokenEnv or tokenFile (README, "Webhook receiver")'],
      o.inventoryPath,
    );
  const webhook = inventory.webhook;
  const secrets = resolveWebhookSecrets(webhook, o.inventoryPath, env);
  // A failure names the address, where it came from and the fix (temporal/connection.ts).
  const client = await connectClient(env);
  const app = buildReceiver({
    // Hosts and clusters as the file has them now; the webhook section and its secrets as at start.
    get inventory() {
      return inventoryFile.current;
    },
    webhook,
    secrets,
    logger: log,
    start: (input) => startEmergencyRecovery(client, taskQueue, input),
  });
  let url: string;
  try {
    url = await app.listen({ host: o.host ?? DEFAULT_HOST, port: o.port ?? DEFAULT_PORT });
  } catch (e) {
    await client.connection.close();
    throw e;
  }
  log.info(
    {
      url,
      taskQueue,
      namespace: client.options.namespace,
      clusters: inventory.clusters.map((c) => c.name),
      routes: Object.values(ROUTES),
      auth: {
        bearer: secrets.token !== undefined,
        grafanaHmac: secrets.grafana !== undefined,
        pagerdutyHmac: secrets.pagerduty !== undefined,
      },
    },
    'webhook receiver listening',
  );
  return {
    url,
    client,
    log,
    async close() {
      try {
        await app.close();
      } finally {
        await client.connection.close();
      }
    },
  };
}

/** Runs until SIGINT or SIGTERM, then shuts down cleanly. */
export async function runReceiverMain(o: ReceiverMainOptions): Promise<void> {
  const r = await startReceiver(o);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  r.log.info({ signal }, 'webhook receiver stopping');
  // A second signal does not wait for requests under way.
  const now = () => process.exit(1);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  await r.close();
  r.log.info('webhook receiver stopped');
}
