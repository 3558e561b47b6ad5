/**
 * Salvage: the transactions a crashed primary wrote to its binary log that the candidate lacks,
 * read as text from mariadb-binlog / mysqlbinlog and applied to the candidate with their GTIDs.
 * Pure: parsing, selection and summaries; the commands are in domain/dialects/salvage*.ts, the
 * SSH read and the apply in activities/salvage.ts.
 *
 * Checked live on MariaDB 10.11.19 (two private mariadbd, log_bin, binlog_format=ROW; fixtures in
 * test/fixtures/salvage/ were printed then), replaying through mysql2 without multipleStatements:
 * - The replaying account needs BINLOG REPLAY (or SUPER): for the BINLOG statements, and to set
 *   @@session.gtid_domain_id, server_id, gtid_seq_no and pseudo_thread_id (each refused with 1227
 *   without it); plus the object privileges the transactions use (INSERT/UPDATE/DELETE for row
 *   events, CREATE/DROP/ALTER/INDEX for DDL). PSEUDO_SLAVE_MODE, skip_parallel_replication,
 *   TIMESTAMP need nothing.
 * - read_only=1 refuses the row events (1290) unless the account has READ ONLY ADMIN (which GRANT
 *   ALL ON *.* includes): apply before the candidate becomes writable, with such an account, or
 *   lift read_only only for the salvage.
 * - Replayed transactions keep their GTIDs: @@gtid_binlog_pos and @@gtid_binlog_state of the
 *   second server ended equal to the first's, and CHECKSUM TABLE matched, including a DDL whose
 *   string literal holds "/*!*\/;" and "# at 4" lines, UTF-8 literals, XA, MyISAM, a ROLLBACK'd
 *   mixed transaction and 1308 transactions after a kill -9 (1.4 s over a local socket). They
 *   land in the candidate's binlog position and state, NOT in its @@gtid_slave_pos or
 *   @@gtid_current_pos (another server_id): compare @@gtid_binlog_pos afterwards.
 * - `/*!\C utf8mb3 *\/` is a client command: the server refuses it (1064), so it is dropped.
 * - A SET of gtid_domain_id and gtid_seq_no in ONE statement is checked against the previous
 *   domain under gtid_strict_mode (1950): one statement per variable. gtid_strict_mode on the
 *   candidate refuses a seq_no at or below its own at SET time (1950): a server-side net against
 *   applying twice.
 * - CREATE ... SELECT (one GTID: DDL + row events) splits when replayed: the CREATE commits under
 *   its GTID and the rows take the next free seq_no, which collides with the next salvaged GTID.
 *   It is marked unreplayable, and selection withholds it and everything after it; @@last_gtid
 *   after each transaction catches any other split.
 * - mariadb-binlog: see domain/dialects/salvageMariadb.ts for the options and messages. A torn
 *   last event: exit 0, stderr "ERROR: Error in Log_event::read_log_event(): 'Event truncated'",
 *   the transaction printed without its COMMIT (or, torn in its GTID event, not printed at all).
 *   A torn file followed by another: exit 1, "Could not read entry at offset N".
 */
export { parseBinlogText } from './parse';
export { lexBinlog, type BinlogEvent, type LexedBinlog } from './events';
export {
  salvageStartPosition,
  selectSalvage,
  type CandidateGtidState,
  type SalvageRefusalReason,
  type SalvageSelection,
  type SelectOptions,
} from './select';
export { summarizeGtids, type GtidSummary } from './summary';
export { lackedBeforeFiles } from './coverage';
export { gtidKey, has, holdingsOf, type GtidKey, type Holdings } from './holdings';
export type { BinlogTransaction, ParsedBinlog } from './types';
export {
  nextFileCount,
  readVerdict,
  type ReadVerdict,
  type SalvageRead,
  type SalvageReadFailure,
} from './read';
export {
  appliedAreIn,
  applyPrecheck,
  candidateState,
  salvageFailure,
  sessionSurvives,
  statementFailure,
  timedOut,
  type SalvageApplyFailure,
  type SalvageApplyResult,
} from './apply';
export { skippedSalvage, type SalvageReport } from './report';
