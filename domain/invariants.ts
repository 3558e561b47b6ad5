// The invariants every runbook ends by checking (DESIGN.md): one writable node, traffic on it
// alone, every other reachable node replicating from it without error (an unprovisioned node
// need not: it is reported instead).
import { isUnprovisioned, UNPROVISIONED } from './provision/unprovisioned';
import { replicationHealthy, writableNodes, type Topology } from './topology';

export interface InvariantInput {
  topology: Topology;
  primary: string;
  /** Hosts that hold the writer traffic (VIP holders / HAProxy ready writers); null when no router. */
  trafficHolders: string[] | null;
  /** Nodes deliberately left out (a fenced old primary after emergency recovery). */
  excluded?: string[];
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
