// A planned successover that failed after its point of no return (the target promoted) leaves a
// cluster half switched: traffic still on the old primary, replicas still pointed at it. The run
// says exactly that, and the same request started again finishes the work instead of refusing
// on "the target is the primary".
import { isUnprovisioned } from '../provision/unprovisioned';
import type { Topology } from '../topology';

export interface Unfinished {
  target: string;
  /** Traffic holders that are not the target (the VIP still on the old primary). */
  trafficElsewhere: string[];
  /** Whether the target lacks the writer traffic. */
  trafficMissing: boolean;
  /** Reachable provisioned nodes not replicating from the target, and whom they follow now. */
  notRepointed: { name: string; source: string | null }[];
  /**
   * The target still replicates from this node, which does not replicate from it: the critical
   * section stopped before its last step (5h) and the target must forget its old source. (Both
   * ways is a master-master pair, kept.)
   */
  forgetSource: string | null;
  /** In words: "db2 promoted and writable; VIP still on db1; db3 not repointed (replicates from db1)". */
  state: string;
}

/** The state after a change of primary to `target`; null when `target` is not the one writer. */
export function switchState(
  topology: Topology,
  trafficHolders: string[] | null,
  target: string,
): Unfinished | null {
  const writers = topology.nodes.filter((n) => n.reachable && n.readOnly === false).map((n) => n.name);
  if (writers.length !== 1 || writers[0] !== target) return null;
  const trafficElsewhere = (trafficHolders ?? []).filter((h) => h !== target);
  const trafficMissing = trafficHolders !== null && !trafficHolders.includes(target);
  const notRepointed = topology.nodes
    .filter(
      (n) => n.name !== target && n.reachable && !isUnprovisioned(n) && n.replication?.source !== target,
    )
    .map((n) => ({ name: n.name, source: n.replication?.source ?? null }));
  const source = topology.nodes.find((n) => n.name === target)?.replication?.source ?? null;
  const forgetSource =
    source !== null && topology.nodes.find((n) => n.name === source)?.replication?.source !== target
      ? source
      : null;
  const parts = [`${target} promoted and writable`];
  if (forgetSource) parts.push(`${target} still replicates from ${forgetSource}`);
  if (trafficMissing || trafficElsewhere.length > 0)
    parts.push(
      `writer traffic ${trafficMissing ? `not on ${target}` : `on ${target}`}${
        trafficElsewhere.length ? ` but still on ${trafficElsewhere.join(', ')}` : ''
      }`,
    );
  for (const n of notRepointed)
    parts.push(
      `${n.name} not repointed (${n.source ? `replicates from ${n.source}` : 'replicates from no one'})`,
    );
  const unreachable = topology.nodes.filter((n) => !n.reachable).map((n) => n.name);
  if (unreachable.length) parts.push(`${unreachable.join(', ')} unreachable`);
  return { target, trafficElsewhere, trafficMissing, notRepointed, forgetSource, state: parts.join('; ') };
}

/** Work left of a successover to `target`, or null when there is none (or it is not one). */
export function unfinishedSuccessover(
  topology: Topology,
  trafficHolders: string[] | null,
  target: string | undefined,
): Unfinished | null {
  if (!target) return null;
  const s = switchState(topology, trafficHolders, target);
  if (!s) return null;
  return s.trafficMissing || s.trafficElsewhere.length > 0 || s.notRepointed.length > 0 || s.forgetSource
    ? s
    : null;
}
