// An unprovisioned node: a server that answers, read-only, replicating from no one, with an EMPTY
// GTID state: a fresh install waiting for provision-replica (or one whose logical copy is under
// way: the copy resets the GTID state first and sets the replica position only at its end).
// Runbooks must never point such a node at a primary: replication would start from the beginning
// of time and try to replay the whole history, which the primary's binary logs no longer hold.
import type { NodeState } from '../topology';

/** The ranking reason, the repoint warning and the invariants' note all say this. */
export const UNPROVISIONED = 'unprovisioned: run provision-replica';

const empty = (gtid: string | undefined) => gtid !== undefined && gtid.trim() === '';

/**
 * Reachable, read-only, no replication configured, and no GTID history at all (both what it has
 * applied and its binlog state). An unknown GTID state is NOT empty: unknown is not unprovisioned.
 */
export function isUnprovisioned(n: NodeState): boolean {
  return (
    n.reachable &&
    n.readOnly === true &&
    n.replication === null &&
    empty(n.gtidExecuted) &&
    empty(n.gtidHistory)
  );
}

export const unprovisionedNodes = (nodes: readonly NodeState[]): string[] =>
  nodes.filter(isUnprovisioned).map((n) => n.name);

/** What a runbook that leaves the node alone says about it. */
export const notRepointed = (name: string, source: string): string =>
  `${name} is ${UNPROVISIONED}; not repointed to ${source} (an empty server pointed at a primary would try to replay its whole history)`;
