// The first activity of every run: the cluster's spec as the inventory describes it, recorded in
// history so the rest of the run works from one snapshot. Secrets are a separate section of the
// inventory (credentials) that this never reads.
import type { ActivityDeps } from './deps';
import type { ClusterSpec } from '../domain/inventory';
import { FailureType, nonRetryable } from './errors';

export interface LoadClusterSpecInput {
  cluster: string;
}

export function createClusterActivities(deps: ActivityDeps) {
  return {
    async loadClusterSpec({ cluster }: LoadClusterSpecInput): Promise<ClusterSpec> {
      const spec = deps.inventory.clusters.find((c) => c.name === cluster);
      if (!spec) {
        const known = deps.inventory.clusters.map((c) => c.name).join(', ');
        throw nonRetryable(
          FailureType.BadConfiguration,
          `unknown cluster "${cluster}": the worker's inventory has ${known}; check the name or the worker's --inventory`,
        );
      }
      // A copy, so nothing a caller does to the result reaches the worker's inventory.
      return structuredClone(spec);
    },
  };
}
