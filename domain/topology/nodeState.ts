// What discovery found on each node, in one flavor-neutral shape. Decisions (preflight,
// ranking, invariants) are pure functions over these facts, so they replay deterministically.
import type { Cluster } from '../inventory';

export interface ReplicationFacts {
  /** Inventory name of the source when it matches a host of the cluster, else "address:port". */
  source: string;
  ioRunning: 'yes' | 'no' | 'connecting';
  sqlRunning: boolean;
  lagSeconds: number | null;
  /** Last IO thread error, empty when none (normal while a dead source is retried). */
  ioError: string;
  /** Last SQL thread error, empty when none: a replica with one is not consistent. */
  sqlError: string;
}

export interface NodeState {
  name: string;
  reachable: boolean;
  /** Why the node could not be reached or read. */
  error?: string;
  version?: string;
  readOnly?: boolean;
  /** Tells a node's own writes from those it replicated (pair checks). */
  serverId?: number;
  /** MySQL server_uuid; null on MariaDB. */
  serverUuid?: string | null;
  autoIncrement?: { increment: number; offset: number };
  replication: ReplicationFacts | null;
  /**
   * What the node has applied. MySQL: gtid_executed. MariaDB: gtid_current_pos (written
   * locally or replicated).
   */
  gtidExecuted?: string;
  /**
   * What errant-transaction detection compares. MySQL: gtid_executed. MariaDB:
   * gtid_binlog_state (per domain and server, so an old primary's writes are told apart).
   */
  gtidHistory?: string;
}

export interface Topology {
  cluster: string;
  nodes: NodeState[];
}

export const writableNodes = (t: Topology): NodeState[] =>
  t.nodes.filter((n) => n.reachable && n.readOnly === false);

export const node = (t: Topology, name: string): NodeState | undefined =>
  t.nodes.find((n) => n.name === name);

/** The one writable node, or why there is not exactly one. */
export function findPrimary(
  _cluster: Cluster,
  topology: Topology,
): { primary: string } | { refusal: string } {
  const writers = writableNodes(topology).map((n) => n.name);
  if (writers.length > 1)
    return {
      refusal: `${writers.length} writable nodes (${writers.join(', ')}): resolve the split brain (set read_only=1 on all but the real primary) before any runbook`,
    };
  if (writers.length === 0) {
    const down = topology.nodes.filter((n) => !n.reachable).map((n) => n.name);
    return {
      refusal: `no writable node${down.length ? ` (unreachable: ${down.join(', ')})` : ''}: if the primary is dead run emergency recovery; if all are read-only, make the primary writable first`,
    };
  }
  return { primary: writers[0] };
}

export function replicationHealthy(n: NodeState, source: string): string | undefined {
  const r = n.replication;
  if (!r) return `${n.name} does not replicate`;
  if (r.source !== source) return `${n.name} replicates from ${r.source}, not from ${source}`;
  if (r.sqlError) return `${n.name}'s SQL thread failed: ${r.sqlError}`;
  if (r.ioError && r.ioRunning !== 'yes') return `${n.name}'s IO thread failed: ${r.ioError}`;
  if (r.ioRunning !== 'yes')
    return `${n.name}'s IO thread is ${r.ioRunning === 'no' ? 'stopped' : 'connecting'}`;
  if (!r.sqlRunning) return `${n.name}'s SQL thread is stopped`;
  return undefined;
}

/**
 * The topology with one node's GTID facts replaced by a later reading. Errant detection needs
 * the primary read AFTER the replicas: under write load a replica read after the primary holds
 * transactions the primary's earlier snapshot lacks, which would look errant.
 */
export function withLaterPosition(t: Topology, name: string, executed: string, history: string): Topology {
  return {
    ...t,
    nodes: t.nodes.map((n) => (n.name === name ? { ...n, gtidExecuted: executed, gtidHistory: history } : n)),
  };
}
