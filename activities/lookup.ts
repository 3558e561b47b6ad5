// Names from a workflow to the worker's inventory entries. An unknown name is a configuration
// error no retry can fix: it fails at once, listing what the inventory has.
import type { Cluster, Host, Inventory } from '../domain/inventory';
import { FailureType, nonRetryable } from './errors';

export function clusterOf(inventory: Inventory, name: string): Cluster {
  const c = inventory.clusters.find((x) => x.name === name);
  if (!c)
    throw nonRetryable(
      FailureType.BadConfiguration,
      `unknown cluster "${name}" in the worker's inventory: expected one of ${inventory.clusters.map((x) => x.name).join(', ')}`,
    );
  return c;
}

/** The inventory host of that name, or a non-retryable error listing the known ones. */
export function hostOf(cluster: Cluster, name: string): Host {
  const h = cluster.hosts.find((x) => x.name === name);
  if (!h)
    throw nonRetryable(
      FailureType.BadConfiguration,
      `unknown host "${name}" in cluster ${cluster.name}: expected one of ${cluster.hosts.map((x) => x.name).join(', ')}`,
    );
  return h;
}
