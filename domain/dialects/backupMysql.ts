// MySQL 8.0.26+ (mysqldump --source-data) and 8.4: mysqldump and Percona XtraBackup (xbstream),
// GTID positions as UUID sets. Not installable on the development machine: unit tests pin the
// text it sends.
import type { BackupDialect } from './backup';
import {
  checkPath,
  checkSchemas,
  checksumTableProbe,
  clientArgs,
  dropSchemaStatement,
  parseBinlogInfoText,
  totalDataBytesProbe,
  userSchemasProbe,
  userTablesProbe,
  versionTuple,
} from './backup';
import { quoteString } from './escape';
import { stmt } from './rows';

// mysqldump --set-gtid-purged=ON writes, near the top:
//   SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-...:1-5,\n4a2b...:1-3';
// (a long set wraps after its commas).
const DUMP_POSITION = /SET @@GLOBAL\.GTID_PURGED=(?:\/\*!80000 '\+'\*\/ )?'([^']*)';/;

const PACKET = '--max-allowed-packet=1G';

/** RESET MASTER was removed in 8.4; its successor exists since 8.2. */
function resetBinlog(version: string) {
  const [major, minor] = versionTuple(version);
  return stmt(major > 8 || (major === 8 && minor >= 2) ? 'RESET BINARY LOGS AND GTIDS' : 'RESET MASTER');
}

export const mysqlBackup: BackupDialect = {
  logicalDump: (e, schemas) => [
    'mysqldump',
    ...clientArgs(e),
    '--single-transaction',
    '--source-data=2',
    // The dump sets gtid_purged itself (and SQL_LOG_BIN=0 for its session): the restored server's
    // gtid_executed is the snapshot's position, with no GTIDs of its own.
    '--set-gtid-purged=ON',
    '--routines',
    '--events',
    '--triggers',
    '--hex-blob',
    PACKET,
    '--databases',
    ...checkSchemas(schemas),
  ],
  // Not copied by the logical method (mysqldump has no account export, mysqlpump is gone in 8.4):
  // the operator's to create on a MySQL target; the physical method copies them.
  accounts: null,
  restoreClient: (e) => ['mysql', ...clientArgs(e), '--binary-mode', PACKET],
  restorePrelude: () => 'SET SESSION sql_log_bin=0;\n',
  dumpPositionMarker: 'SET @@GLOBAL.GTID_PURGED=',
  dumpPosition(text) {
    const m = DUMP_POSITION.exec(text);
    return m ? m[1].replace(/\s+/g, '') : null;
  },
  // gtid_purged can only be set on an empty gtid_executed.
  resetForRestore: (version, replicating) => [
    ...(replicating ? [stmt('STOP REPLICA'), stmt('RESET REPLICA ALL')] : []),
    resetBinlog(version),
  ],
  // super_read_only stops even the worker's account; read_only (left on) still stops applications.
  restoreWritable: () => [stmt('SET GLOBAL super_read_only=OFF')],
  restoreDone: () => [stmt('SET GLOBAL super_read_only=ON')],
  setReplicaPosition: (position, version) => [
    resetBinlog(version),
    stmt(`SET GLOBAL gtid_purged=${quoteString(position)}`),
  ],
  physicalTools: { donor: 'xtrabackup', target: ['xbstream', 'xtrabackup'] },
  physicalBackup: (e, datadir) => [
    'xtrabackup',
    ...clientArgs(e),
    '--backup',
    '--stream=xbstream',
    `--datadir=${checkPath(datadir, 'donor datadir')}`,
  ],
  physicalExtract: (datadir) => ['xbstream', '-x', '-C', checkPath(datadir, 'target datadir')],
  physicalPrepare: (datadir) => [
    'xtrabackup',
    '--prepare',
    `--target-dir=${checkPath(datadir, 'target datadir')}`,
  ],
  binlogInfoFiles: ['xtrabackup_binlog_info'],
  parseBinlogInfo: parseBinlogInfoText,
  // auto.cnf holds server_uuid: a copy would make the target a second donor in every GTID set.
  donorStateFiles: ['auto.cnf'],
  stopApplying: () => [stmt('STOP REPLICA SQL_THREAD')],
  startUntil: (position) => [stmt(`START REPLICA SQL_THREAD UNTIL SQL_AFTER_GTIDS=${quoteString(position)}`)],
  userSchemas: () => userSchemasProbe('information_schema.INNODB_TABLESPACES'),
  totalDataBytes: () => totalDataBytesProbe('information_schema.INNODB_TABLESPACES'),
  userTables: userTablesProbe,
  dropSchema: dropSchemaStatement,
  checksumTable: checksumTableProbe,
};
