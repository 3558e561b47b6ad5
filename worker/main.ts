// `successover worker`: one long-running worker process. Logs are JSON lines (pino) on stdout;
// SIGINT/SIGTERM let running activities finish (up to the shutdown grace time) before exiting.
import { Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { connectClient, connectWorker } from '../temporal/connection';
import { ensureDetectors } from '../triggers/detectors';
import { createWorker, DEFAULT_TASK_QUEUE } from './index';

export interface WorkerMainOptions {
  inventoryPath: string;
  taskQueue?: string;
  env?: NodeJS.ProcessEnv;
}

const LEVELS: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's own logs (worker state, activity and workflow loggers) as pino JSON lines too. */
function sdkLogger(log: Logger) {
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void =>
      log[LEVELS[level]](meta ?? {}, message);
  return {
    log: (level: LogLevel, message: string, meta?: LogMetadata) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

export async function runWorkerMain(opts: WorkerMainOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const log = pino({ name: 'successover-worker', level: env.LOG_LEVEL ?? 'info' });
  Runtime.install({
    logger: sdkLogger(log.child({ component: 'sdk' })),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const { connection, namespace, address } = await connectWorker(env);
  const client = await connectClient(env);
  try {
    const w = await createWorker({
      inventoryPath: opts.inventoryPath,
      connection,
      client,
      taskQueue,
      namespace,
      env,
      logger: log,
    });
    log.info(
      {
        address,
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
    await client.connection.close();
    await connection.close();
  }
}
