// A small fleet for the selector and drain tests: clusters with labels, hosts on machines.
import { validateInventory, type Inventory } from '../../domain/inventory';

export interface ClusterDef {
  name: string;
  labels?: Record<string, string>;
  /** Host name -> machine (absent: the host's address is its machine). */
  hosts: Record<string, string | undefined>;
}

let next = 1;
/** A valid inventory of these clusters (each host gets an address of its own). */
export function fleet(defs: ClusterDef[]): Inventory {
  const doc = {
    clusters: defs.map((d) => ({
      name: d.name,
      flavor: 'mariadb',
      ...(d.labels ? { labels: d.labels } : {}),
      hosts: Object.entries(d.hosts).map(([name, machine]) => ({
        name,
        address: `10.1.${Math.floor(next / 250)}.${(next++ % 250) + 1}`,
        ...(machine ? { machine } : {}),
      })),
    })),
    credentials: {
      mysql: { user: 'successover', passwordEnv: 'SO_PW' },
      replication: { user: 'repl', passwordEnv: 'SO_REPL' },
    },
  };
  const r = validateInventory(doc);
  if (!r.ok) throw new Error(`fixture invalid: ${r.problems.join('; ')}`);
  return r.inventory;
}
