// `successover worker`: one long-running worker process. Logs are JSON lines (pino) on stdout;
// SIGINT/SIGTERM let running activities finish (up to the shutdown grace time) before exiting.
import { serveMetrics, sdkMetrics, type MetricsServer } from '../metrics/server';
import { freePort } from '../temporal/devserver';
import { connectClient, connectWorker, describeSource } from '../temporal/connection';
import { ensureDetectors } from '../triggers/detectors';
import { createWorker, DEFAULT_TASK_QUEUE } from './index';
import { installRuntime, workerLogger } from './logging';
import { packageVersion } from './version';

export interface WorkerMainOptions {
  inventoryPath: string;
  taskQueue?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Serve Prometheus metrics on this port (0: any free one, logged). Default: env
   * SUCCESSOVER_METRICS_PORT; neither: no metrics.
   */
  metricsPort?: number;
  /** Default: env SUCCESSOVER_METRICS_HOST, else every interface. */
  metricsHost?: string;
  /** On SIGTERM, how long activities under way may finish before they are cancelled. */
  shutdownGraceSeconds?: number;
}

/**
 * A worker replaced for an upgrade lets the activities it runs finish (a critical section takes
 * well under a second) instead of cancelling them for Temporal to retry elsewhere. Long ones (a
 * detector's watch, a copy) are cancelled after this and resume on another worker.
 */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 10;

export function parseSeconds(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600)
    throw new Error(`${what}: expected seconds from 0 to 3600, got "${value}"`);
  return n;
}

export function parsePort(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new Error(`${what}: expected a port number, got "${value}"`);
  return n;
}

export async function runWorkerMain(opts: WorkerMainOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const log = workerLogger(env.LOG_LEVEL ?? 'info');
  const metricsPort =
    opts.metricsPort ??
    (env.SUCCESSOVER_METRICS_PORT
      ? parsePort(env.SUCCESSOVER_METRICS_PORT, 'SUCCESSOVER_METRICS_PORT')
      : undefined);
  // The SDK's own metrics are exported by its core on a loopback port and passed through our
  // /metrics, so Prometheus scrapes one target per worker.
  const sdkMetricsAddress = metricsPort === undefined ? undefined : `127.0.0.1:${await freePort()}`;
  installRuntime(log, { sdkMetricsAddress, shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const { connection, namespace, address, source } = await connectWorker(env);
  const client = await connectClient(env);
  let metrics: MetricsServer | undefined;
  try {
    if (metricsPort !== undefined) {
      metrics = await serveMetrics({
        port: metricsPort,
        host: opts.metricsHost ?? env.SUCCESSOVER_METRICS_HOST,
        sources: sdkMetricsAddress ? [sdkMetrics(sdkMetricsAddress)] : [],
      });
      log.info({ url: metrics.url, port: metrics.port, sdkMetricsAddress }, 'metrics served');
    }
    const w = await createWorker({
      inventoryPath: opts.inventoryPath,
      connection,
      client,
      taskQueue,
      namespace,
      env,
      logger: log,
      shutdownGraceSeconds: opts.shutdownGraceSeconds ?? DEFAULT_SHUTDOWN_GRACE_SECONDS,
    });
    log.info(
      {
        release: packageVersion(),
        address,
        addressFrom: describeSource(source),
        namespace,
        taskQueue,
        inventory: opts.inventoryPath,
        clusters: w.inventory.clusters.map((c) => c.name),
      },
      'worker started',
    );
    // Opt-in detectors (policy.detector.enabled); a failed start must not keep the worker down.
    await ensureDetectors(client, w.inventory, taskQueue).then(
      (ds) => ds.forEach((d) => log.info(d, d.started ? 'detector started' : 'detector already running')),
      (err: unknown) => log.error({ err }, 'detectors not started'),
    );
    await w.run();
    log.info({ taskQueue }, 'worker stopped');
  } finally {
    await metrics?.close();
    await client.connection.close();
    await connection.close();
  }
}
