import type { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import { InventoryError } from '../../worker/loadInventory';
import { DEFAULT_SHUTDOWN_GRACE_SECONDS, parsePort, parseSeconds, runWorkerMain } from '../../worker/main';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run a worker: executes the runbooks for the clusters of an inventory (TEMPORAL_ADDRESS etc.)',
    )
    .requiredOption('--inventory <file>', 'inventory YAML file')
    .option('--task-queue <name>', 'task queue to poll', DEFAULT_TASK_QUEUE)
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics (with the SDK ones) on /metrics (0: any free port; env SUCCESSOVER_METRICS_PORT)',
      (v: string) => parsePort(v, '--metrics-port'),
    )
    .option(
      '--metrics-host <address>',
      'address for the metrics (env SUCCESSOVER_METRICS_HOST; default every interface)',
    )
    .option(
      '--shutdown-grace <seconds>',
      'on SIGTERM/SIGINT, let activities under way finish this long before cancelling them (0: at once)',
      (v: string) => parseSeconds(v, '--shutdown-grace'),
      DEFAULT_SHUTDOWN_GRACE_SECONDS,
    )
    .action(
      async (o: {
        inventory: string;
        taskQueue: string;
        metricsPort?: number;
        metricsHost?: string;
        shutdownGrace: number;
      }) => {
        try {
          await runWorkerMain({
            inventoryPath: o.inventory,
            taskQueue: o.taskQueue,
            metricsPort: o.metricsPort,
            metricsHost: o.metricsHost,
            shutdownGraceSeconds: o.shutdownGrace,
          });
        } catch (e) {
          if (!(e instanceof InventoryError)) throw e;
          console.error(e.message);
          process.exit(2);
        }
      },
    );
}
