// Worker logs: JSON lines from pino. The Temporal SDK's logs (its own, the Rust core's, and the
// workflow and activity context loggers, which carry workflowId and runId) go through the same
// pino logger; activity lines also name the cluster, host and step.
import {
  Runtime,
  type ActivityInterceptorsFactory,
  type LogLevel,
  type LogMetadata,
  type Logger as SdkLogger,
} from '@temporalio/worker';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Belt and braces: no code logs a secret (they stay in worker/secrets.ts), but a field with one
 * of these names is censored wherever it turns up, e.g. in an error's options.
 */
export const REDACTED_PATHS = [
  'password',
  'passphrase',
  'privateKey',
  'secret',
  'token',
  'authorization',
].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function workerLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'successover-worker',
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // The SDK passes errors as `error`; pino only serializes `err` by default.
      serializers: { error: pino.stdSerializers.err },
    },
    destination,
  );
}

const LEVELS: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's logger interface on top of a pino logger. */
export function sdkLogger(log: Logger): SdkLogger {
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

export interface RuntimeSetup {
  /** host:port where the SDK's Rust core serves its Prometheus metrics; omitted: none. */
  sdkMetricsAddress?: string;
  shutdownSignals?: NodeJS.Signals[];
}

/**
 * Installs the process's Temporal Runtime (once per process, before any connection): SDK logs,
 * including the core's (forwarded, WARN and up), to pino; optionally its Prometheus exporter.
 */
export function installRuntime(log: Logger, setup: RuntimeSetup = {}): Runtime {
  return Runtime.install({
    logger: sdkLogger(log.child({ component: 'sdk' })),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(setup.sdkMetricsAddress
        ? { metrics: { prometheus: { bindAddress: setup.sdkMetricsAddress, countersTotalSuffix: true } } }
        : {}),
    },
    shutdownSignals: setup.shutdownSignals,
  });
}

/**
 * Every activity input names its cluster and most name a host: put them, the step (the activity
 * type) and the run id on each log line of that activity. The SDK writes its "Activity started"
 * line before the input reaches any interceptor, so that line has the ids and the step only.
 */
export const activityLogContext: ActivityInterceptorsFactory = (ctx) => {
  // runId as workflow lines name it (the SDK calls it workflowRunId here).
  const attrs: Record<string, unknown> = {
    runId: ctx.info.workflowExecution?.runId,
    step: ctx.info.activityType,
  };
  return {
    inbound: {
      execute(input, next) {
        const arg = (input.args[0] ?? {}) as { cluster?: unknown; host?: unknown };
        if (typeof arg.cluster === 'string') attrs.cluster = arg.cluster;
        if (typeof arg.host === 'string') attrs.host = arg.host;
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (input, next) => ({ ...next(input), ...attrs }),
    },
  };
};
