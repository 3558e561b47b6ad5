// What the emergency decisions need beyond the flavor-neutral NodeState: the replication facts
// that only matter once the primary is dead (what sits in the relay log, who the source was).
import type { ReplicationStatus } from '../dialects/dialect';
import type { NodeState } from '../topology';

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

/** A node as discovery saw it, plus its relay facts when it is a replica. */
export type EmergencyNode = NodeState & { relay?: RelayFacts };

/** The relay facts of a replica from the dialect's replication status. */
export function relayFacts(status: ReplicationStatus, sourceUuid?: string | null): RelayFacts {
  return {
    received: status.gtidReceived,
    sourceServerId: status.sourceServerId,
    ...(status.gtidExecuted ? { applied: status.gtidExecuted } : {}),
    ...(sourceUuid !== undefined ? { sourceUuid } : {}),
  };
}
