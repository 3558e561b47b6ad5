// The invariants every runbook ends by checking (DESIGN.md): one writable node, traffic on it
// alone, every other reachable node replicating from it without error (an unprovisioned node
// need not: it is reported instead). The writer replicates from no one, except from its standby
// in a master-master pair, where both directions must be healthy.
import { isUnprovisioned, UNPROVISIONED } from './provision/unprovisioned';
import { replicationHealthy, standbyOf, writableNodes, type Topology } from './topology';

export interface InvariantInput {
  topology: Topology;
  primary: string;
  /** Hosts that hold the writer traffic (VIP holders / HAProxy ready writers); null when no router. */
  trafficHolders: string[] | null;
  /** Nodes deliberately left out (a fenced old primary after emergency recovery). */
  excluded?: string[];
  /** The standby the writer must replicate from: the cluster is a master-master pair. */
  pairedWith?: string;
}

export interface InvariantReport {
  violations: string[];
  /** What is fine but worth saying: unprovisioned nodes, which need not replicate. */
  notes: string[];
}

export function checkInvariants(input: InvariantInput): string[] {
  return invariantReport(input).violations;
}

export function invariantReport({
  topology,
  primary,
  trafficHolders,
  excluded = [],
  pairedWith,
}: InvariantInput): InvariantReport {
  const violations: string[] = [];
  const notes: string[] = [];
  const writers = writableNodes(topology).map((n) => n.name);
  if (writers.length !== 1 || writers[0] !== primary)
    violations.push(
      `expected exactly one writable node, ${primary}; found ${writers.length ? writers.join(', ') : 'none'}`,
    );
  if (trafficHolders !== null && (trafficHolders.length !== 1 || trafficHolders[0] !== primary))
    violations.push(
      `expected the writer traffic on ${primary} only; it is on ${trafficHolders.length ? trafficHolders.join(', ') : 'no host'}`,
    );
  violations.push(...writerReplication(topology, primary, pairedWith));
  for (const n of topology.nodes) {
    if (n.name === primary || excluded.includes(n.name)) continue;
    if (!n.reachable) {
      violations.push(`${n.name} is unreachable (${n.error ?? 'no answer'})`);
      continue;
    }
    // Empty and read-only: waiting for provision-replica, not a broken replica.
    if (isUnprovisioned(n)) {
      notes.push(`${n.name} is ${UNPROVISIONED} (read-only, empty, replicates from no one)`);
      continue;
    }
    const broken = replicationHealthy(n, primary);
    if (broken) violations.push(broken);
  }
  return { violations, notes };
}

/** A writer replicates only from its pair's standby, and then healthily. */
function writerReplication(topology: Topology, primary: string, pairedWith: string | undefined): string[] {
  const writer = topology.nodes.find((n) => n.name === primary);
  if (!writer?.reachable) return [];
  const standby = standbyOf(topology, primary);
  if (pairedWith !== undefined && standby !== pairedWith)
    return [
      `the master-master pair is broken: ${primary} ${writer.replication ? `replicates from ${writer.replication.source}` : 'replicates from no one'}, expected from its standby ${pairedWith}`,
    ];
  if (!writer.replication) return [];
  if (standby === null)
    return [
      `the writer ${primary} replicates from ${writer.replication.source}: outside a master-master pair a writer must not replicate`,
    ];
  const broken = replicationHealthy(writer, standby);
  return broken ? [`master-master pair ${primary} <-> ${standby}: ${broken}`] : [];
}
