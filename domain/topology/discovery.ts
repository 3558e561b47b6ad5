// What the topology discovery (activities inspectCluster, discoverTopology) returns, and how a
// host's raw facts become the flavor-neutral NodeState the decisions read.
import type { GtidPosition, NodeFacts, ReplicationStatus } from '../dialects/dialect';
import type { NodeState, Topology } from './nodeState';
import type { TopologyNodeView } from './view';

/** One host as discovery read it: the dialect's facts, or why it could not be read. */
export interface HostTopology {
  host: string;
  reachable: boolean;
  /** Why it was unreachable (classified message naming host and operation). */
  error: string | null;
  facts: NodeFacts | null;
  replication: ReplicationStatus | null;
  gtid: GtidPosition | null;
  /** The inventory host this node replicates from, when its source address matches one. */
  sourceName: string | null;
}

/** What a replica's relay log received and from which server: the emergency decisions read it. */
export interface RelayFacts {
  /** GTIDs received into the relay log: MariaDB Gtid_IO_Pos (a position), MySQL Retrieved_Gtid_Set. */
  received: string;
  /** The source's server_id as the replica last saw it (Master_Server_Id / Source_Server_Id). */
  sourceServerId: number | null;
  /**
   * MySQL: the source's server_uuid (SHOW REPLICA STATUS Source_UUID) when the dialect reads it;
   * absent, it is inferred from `received` (see deadPrimaryIdentity).
   */
  sourceUuid?: string | null;
  /**
   * What replication applied (MariaDB gtid_slave_pos, MySQL Executed_Gtid_Set): what the replica
   * asks a new source for. Unlike gtidExecuted it leaves out a MariaDB replica's local writes.
   */
  applied?: string;
}

/** What inspectCluster returns: the topology, who holds the traffic, the view, the relay facts. */
export interface InspectResult {
  topology: Topology;
  /** Hosts holding the writer traffic; null when the cluster has no traffic router. */
  trafficHolders: string[] | null;
  view: TopologyNodeView[];
  /** Per replica, what its relay log received and from which server (emergency decisions). */
  relay: Record<string, RelayFacts>;
}

export function toNodeState(h: HostTopology): NodeState {
  const r = h.replication;
  return {
    name: h.host,
    reachable: h.reachable,
    ...(h.error ? { error: h.error } : {}),
    version: h.facts?.version,
    readOnly: h.facts ? h.facts.readOnly || h.facts.superReadOnly === true : undefined,
    ...(h.facts
      ? {
          serverId: h.facts.serverId,
          serverUuid: h.facts.gtid.serverUuid,
          autoIncrement: h.facts.autoIncrement,
        }
      : {}),
    replication: r
      ? {
          source: h.sourceName ?? `${r.sourceHost}:${r.sourcePort}`,
          ioRunning: r.ioRunning,
          sqlRunning: r.sqlRunning === 'yes',
          lagSeconds: r.lagSeconds,
          ioError: r.lastIoError,
          sqlError: r.lastSqlError,
        }
      : null,
    gtidExecuted: h.gtid?.current,
    gtidHistory: h.gtid ? (h.gtid.binlogState ?? h.gtid.current) : undefined,
  };
}

/** The relay facts of a replica from the dialect's replication status. */
export function relayFacts(status: ReplicationStatus, sourceUuid?: string | null): RelayFacts {
  return {
    received: status.gtidReceived,
    sourceServerId: status.sourceServerId,
    ...(status.gtidExecuted ? { applied: status.gtidExecuted } : {}),
    ...(sourceUuid !== undefined ? { sourceUuid } : {}),
  };
}
