import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import { InventoryError } from '../../worker/loadInventory';
import { DEFAULT_HOST, DEFAULT_PORT, runReceiverMain } from '../../webhook/main';

interface ServeOptions {
  inventory: string;
  port: number;
  host: string;
  taskQueue: string;
}

function portNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0-65535');
  return n;
}

export function registerWebhook(program: Command): void {
  const webhook = program.command('webhook').description('receive alerts that start emergency recoveries');
  webhook
    .command('serve')
    .description(
      'HTTP receiver for Alertmanager, Grafana, PagerDuty and plain JSON alerts (TEMPORAL_ADDRESS etc.)',
    )
    .addOption(
      new Option('--inventory <file>', 'inventory YAML file with a webhook section')
        .env('SUCCESSOVER_INVENTORY')
        .makeOptionMandatory(),
    )
    .option('--port <port>', 'port to listen on (0: any free port)', portNumber, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', DEFAULT_HOST)
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .action(async (o: ServeOptions) => {
      try {
        await runReceiverMain({
          inventoryPath: o.inventory,
          port: o.port,
          host: o.host,
          taskQueue: o.taskQueue,
        });
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        console.error(e.message);
        process.exit(2);
      }
    });
}
