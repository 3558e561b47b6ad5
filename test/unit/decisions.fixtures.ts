import { validateInventory, type Cluster } from '../../domain/inventory';
import type { NodeState, Topology } from '../../domain/topology';

/** A MariaDB cluster of db1 (primary) .. dbN built from the real schema, so defaults apply. */
export function cluster(overrides: Record<string, unknown> = {}, hosts = 3): Cluster {
  const r = validateInventory({
    clusters: [
      {
        name: 'r2d2',
        flavor: 'mariadb',
        hosts: Array.from({ length: hosts }, (_, i) => ({ name: `db${i + 1}`, address: `10.0.0.${11 + i}` })),
        ...overrides,
      },
    ],
    credentials: { mysql: { user: 'so', passwordEnv: 'X' }, replication: { user: 'r', passwordEnv: 'Y' } },
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.inventory.clusters[0];
}

/** A healthy primary db1 at 0-1-100 and replicas caught up, unless overridden. */
export function topology(patch: Record<string, Partial<NodeState>> = {}, hosts = 3): Topology {
  const nodes: NodeState[] = Array.from({ length: hosts }, (_, i) => {
    const name = `db${i + 1}`;
    const base: NodeState =
      i === 0
        ? {
            name,
            reachable: true,
            version: '10.11.6-MariaDB',
            readOnly: false,
            replication: null,
            gtidExecuted: '0-1-100',
            gtidHistory: '0-1-100',
          }
        : {
            name,
            reachable: true,
            version: '10.11.6-MariaDB',
            readOnly: true,
            replication: {
              source: 'db1',
              ioRunning: 'yes',
              sqlRunning: true,
              lagSeconds: 0,
              ioError: '',
              sqlError: '',
            },
            gtidExecuted: '0-1-100',
            gtidHistory: '0-1-100',
          };
    return { ...base, ...patch[name] };
  });
  return { cluster: 'r2d2', nodes };
}

export const replicaOf = (source: string, more: Partial<NodeState['replication'] & object> = {}) => ({
  source,
  ioRunning: 'yes' as const,
  sqlRunning: true,
  lagSeconds: 0,
  ioError: '',
  sqlError: '',
  ...more,
});
