// One interface over the SQL flavors. Dialects are pure: they build statements and parse the rows
// mysql2 returns, and do no I/O, so a dry-run plan can list every statement a step would send.
import type { Flavor } from '../inventory';
import type { CompatFacts } from '../upgrade/facts';
import type { BackupDialect } from './backup';
import type { Probe, Statement } from './statement';

export type { Probe, Row, Statement } from './statement';

export interface NodeFacts {
  version: string;
  serverId: number;
  readOnly: boolean;
  /** MySQL only; null on MariaDB, which has no super_read_only. */
  superReadOnly: boolean | null;
  uptimeSeconds: number;
  logBin: boolean;
  /**
   * auto_increment_increment/offset: on a master-master pair both sides with the same values is
   * harmless while one side writes and collides the moment both do.
   */
  autoIncrement: { increment: number; offset: number };
  /** null when the flavor's minimum version has no portable way to read it. */
  logReplicaUpdates: boolean | null;
  gtid: {
    /** Whether transactions carry GTIDs (always on MariaDB; gtid_mode=ON on MySQL). */
    enabled: boolean;
    /** MySQL gtid_mode (ON, OFF, ON_PERMISSIVE, OFF_PERMISSIVE); 'ON' on MariaDB. */
    mode: string;
    /** MariaDB gtid_strict_mode; MySQL enforce_gtid_consistency. */
    strict: boolean;
    /** MariaDB gtid_domain_id; null on MySQL. */
    domainId: number | null;
    /** MySQL server_uuid; null on MariaDB. */
    serverUuid: string | null;
  };
}

export type ThreadState = 'yes' | 'no' | 'connecting';

export interface ReplicationStatus {
  sourceHost: string;
  sourcePort: number;
  sourceUser: string;
  sourceServerId: number | null;
  ioRunning: ThreadState;
  sqlRunning: ThreadState;
  ioState: string;
  sqlState: string;
  /** null when the server does not know (a thread stopped, not connected). */
  lagSeconds: number | null;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  /** GTIDs received into the relay log (MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set). */
  gtidReceived: string;
  /** GTIDs applied (MariaDB @@gtid_slave_pos, MySQL Executed_Gtid_Set). */
  gtidExecuted: string;
  /** Connected with GTID auto-positioning (MASTER_USE_GTID<>no / SOURCE_AUTO_POSITION=1). */
  autoPosition: boolean;
}

export interface GtidPosition {
  /**
   * What this server has written and can serve to replicas: the position to wait for on a
   * target (MariaDB @@gtid_binlog_pos, MySQL @@gtid_executed).
   */
  position: string;
  /** Everything applied or written here (MariaDB @@gtid_current_pos, MySQL @@gtid_executed). */
  current: string;
  /** MariaDB @@gtid_slave_pos, null on MySQL. */
  replica: string | null;
  /** MariaDB @@gtid_binlog_state (every domain/server pair), null on MySQL. */
  binlogState: string | null;
}

export type WaitResult = 'reached' | 'timeout';

export interface Session {
  id: number;
  user: string;
  host: string;
  db: string | null;
  command: string;
  timeSeconds: number;
  state: string;
}

export interface SessionList {
  /** The connection the list was read on: never killed. */
  ownId: number;
  sessions: Session[];
}

export interface LongTransaction {
  trxId: string;
  connectionId: number;
  seconds: number;
  state: string;
  rowsModified: number;
  user: string | null;
  host: string | null;
  db: string | null;
  // No statement text: it can carry data or secrets, and results are recorded in history.
}

export interface RepointOptions {
  sourceHost: string;
  sourcePort: number;
  user: string;
  password: string;
  /**
   * The node was a primary: its own binlog GTIDs are merged into its replica position so it
   * does not ask the new source for transactions it already has (MariaDB 10.10+; MySQL's
   * auto-positioning already sends gtid_executed, so it needs nothing).
   */
  demote?: boolean;
  connectRetrySeconds?: number;
  heartbeatPeriodSeconds?: number;
  /** MySQL caching_sha2_password over a non-TLS link needs the source's RSA key. */
  getSourcePublicKey?: boolean;
}

export interface Dialect {
  readonly flavor: Flavor;
  /** Read-only on; the global lock wait is bounded by timeoutSeconds. */
  readOnlyOn(timeoutSeconds: number): Statement[];
  readOnlyOff(): Statement[];
  nodeFacts(): Probe<NodeFacts>;
  /** null when the node is not a replica. */
  replicationStatus(): Probe<ReplicationStatus | null>;
  gtidPosition(): Probe<GtidPosition>;
  /** Server-side wait until `position` is applied, at most timeoutSeconds. */
  waitUntilApplied(position: string, timeoutSeconds: number): Probe<WaitResult>;
  /** Stop replication and forget the source entirely. */
  stopAndForgetReplication(): Statement[];
  /** Point at a new source with GTID auto-positioning and start replication. */
  repoint(options: RepointOptions): Statement[];
  startReplication(): Statement[];
  /**
   * Stop only the IO thread: the replica keeps applying what it received, but a source that is
   * partitioned rather than dead can no longer advance it while a recovery decides.
   */
  stopReceiving(): Statement[];
  startReceiving(): Statement[];
  /** Option-file lines that make the server start read-only (written by successover on fence/demote). */
  readOnlyOptions(): string[];
  sessions(): Probe<SessionList>;
  kill(connectionId: number): Statement;
  longTransactions(thresholdSeconds: number): Probe<LongTransaction[]>;
  /**
   * Blue/green upgrade: settings, accounts (never their password hashes) and schema names; of
   * the columns only those named like one of `watchedWords`.
   */
  compatFacts(watchedWords: string[]): Probe<CompatFacts>;
  /** Provisioning: backup, restore and GTID positioning commands (domain/dialects/backup.ts). */
  readonly backup: BackupDialect;
}
