// A copy of a lab's inventory with one cluster changed (promotion rules, policy): the worker of a
// test reads it, the lab itself is untouched.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

type ClusterDoc = { hosts: { name: string; promotion?: string }[]; policy?: Record<string, unknown> };

export function inventoryVariant(
  inventoryPath: string,
  name: string,
  change: (cluster: ClusterDoc) => void,
): string {
  const doc = parse(readFileSync(inventoryPath, 'utf8')) as { clusters: ClusterDoc[] };
  change(doc.clusters[0]);
  const file = join(dirname(inventoryPath), `inventory-${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** The lab's inventory with `lab fence` as the STONITH command (the out-of-band path to a host). */
export function stonithVariant(lab: { dir: string; info: { inventory: string } }): string {
  return inventoryVariant(lab.info.inventory, 'stonith', (c) => {
    c.policy = {
      ...c.policy,
      fenceCommand: [
        process.execPath,
        join(__dirname, '../../bin/successover.js'),
        'lab',
        'fence',
        '--dir',
        lab.dir,
      ],
    };
  });
}
