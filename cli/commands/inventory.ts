import type { Command } from 'commander';
import { loadInventory, InventoryError } from '../../worker/loadInventory';

export function registerInventory(program: Command): void {
  const inv = program.command('inventory').description('work with inventory files');
  inv
    .command('check')
    .argument('<file>', 'inventory YAML file')
    .description('validate an inventory; exit 0 valid, 1 invalid, 2 unreadable')
    .action((file: string) => {
      try {
        const i = loadInventory(file);
        const hosts = i.clusters.reduce((n, c) => n + c.hosts.length, 0);
        console.log(`${file}: valid (${i.clusters.length} cluster(s), ${hosts} host(s))`);
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        console.error(
          `${file}: ${e.kind === 'unreadable' ? 'unreadable' : `${e.problems.length} problem(s)`}`,
        );
        for (const p of e.problems) console.error(`  ${p}`);
        process.exit(e.kind === 'unreadable' ? 2 : 1);
      }
    });
}
