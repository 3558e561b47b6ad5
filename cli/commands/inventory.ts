import type { Command } from 'commander';
import { loadInventoryFiles, InventoryError } from '../../worker/loadInventory';

export function registerInventory(program: Command): void {
  const inv = program.command('inventory').description('work with inventory files');
  inv
    .command('check')
    .argument('<path>', 'inventory YAML file, or a directory of them (every *.yaml and *.yml in it)')
    .description('validate an inventory; exit 0 valid, 1 invalid, 2 unreadable')
    .action((path: string) => {
      try {
        const { inventory: i, files } = loadInventoryFiles(path);
        const hosts = i.clusters.reduce((n, c) => n + c.hosts.length, 0);
        const from = files.length === 1 && files[0] === path ? '' : `, ${files.length} file(s)`;
        console.log(`${path}: valid (${i.clusters.length} cluster(s), ${hosts} host(s)${from})`);
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        console.error(
          `${path}: ${e.kind === 'unreadable' ? 'unreadable' : `${e.problems.length} problem(s)`}`,
        );
        for (const p of e.problems) console.error(`  ${p}`);
        process.exit(e.kind === 'unreadable' ? 2 : 1);
      }
    });
}
