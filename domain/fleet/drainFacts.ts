// What drain-host needs to know of one cluster, read from its live topology: the writable node and
// the replicas that could take over (drain.ts decides which of them are on another machine).
import type { Cluster } from '../inventory';
import { isUnprovisioned } from '../provision/unprovisioned';
import { findPrimary, replicationHealthy, type NodeState } from '../topology';
import type { DrainFacts } from './drain';

/**
 * The primary is the one writable node (none when there are none or several: a planned
 * successover would refuse). A healthy replica answers, holds data, replicates from the primary
 * with both threads running and no error (a pair's standby does), and lags no more than the
 * cluster's policy.maxLagSeconds, as the planned preflight would require of its target.
 */
export function drainFactsOf(cluster: Cluster, nodes: NodeState[]): DrainFacts {
  const found = findPrimary(cluster, { cluster: cluster.name, nodes });
  if ('refusal' in found) return { cluster: cluster.name, healthyReplicas: [] };
  const { primary } = found;
  const healthyReplicas = nodes
    .filter(
      (n) =>
        n.name !== primary &&
        n.reachable &&
        !isUnprovisioned(n) &&
        replicationHealthy(n, primary) === undefined &&
        n.replication?.lagSeconds != null &&
        n.replication.lagSeconds <= cluster.policy.maxLagSeconds,
    )
    .map((n) => n.name);
  return { cluster: cluster.name, primary, healthyReplicas };
}
