import type { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../worker/index';
import { InventoryError } from '../../worker/inventory';
import { runWorkerMain } from '../../worker/main';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run a worker: executes the runbooks for the clusters of an inventory (TEMPORAL_ADDRESS etc.)',
    )
    .requiredOption('--inventory <file>', 'inventory YAML file')
    .option('--task-queue <name>', 'task queue to poll', DEFAULT_TASK_QUEUE)
    .action(async (o: { inventory: string; taskQueue: string }) => {
      try {
        await runWorkerMain({ inventoryPath: o.inventory, taskQueue: o.taskQueue });
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        console.error(e.message);
        process.exit(2);
      }
    });
}
