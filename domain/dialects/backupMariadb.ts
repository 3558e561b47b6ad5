// MariaDB 10.11: mariadb-dump and mariadb-backup (mbstream), GTID positions as domain-server-seq.
import type { BackupDialect } from './backup';
import {
  checkPath,
  checksumTableProbe,
  clientArgs,
  dropSchemaStatement,
  parseBinlogInfoText,
  SYSTEM_SCHEMAS,
  totalDataBytesProbe,
  userSchemasProbe,
  userTablesProbe,
} from './backup';
import { quoteString } from './escape';
import { str, stmt } from './rows';
import type { Row } from './statement';

// A dump line such as "-- SET GLOBAL gtid_slave_pos='0-1-42';" (commented by --master-data=2).
// mariadb-dump prints it at the END of the dump ("deferred"), with @@gtid_binlog_pos read under
// its FLUSH TABLES WITH READ LOCK at the start of the snapshot.
const DUMP_POSITION = /^(?:-- )?SET GLOBAL gtid_slave_pos='([0-9,\s-]*)';/m;

/** Big rows and long extended INSERTs must not fail on the client's default packet size. */
const PACKET = '--max-allowed-packet=1G';

export const mariadbBackup: BackupDialect = {
  logicalDump: (e) => [
    'mariadb-dump',
    ...clientArgs(e),
    // One REPEATABLE READ snapshot for the whole dump; --master-data takes FLUSH TABLES WITH READ
    // LOCK only while the snapshot starts and the position is read, so both match.
    '--single-transaction',
    '--master-data=2',
    '--gtid',
    '--routines',
    '--events',
    '--triggers',
    // Binary columns as 0x...: nothing in the stream depends on the client's character handling.
    '--hex-blob',
    PACKET,
    // Every schema but the server's own, listed by the dump itself once its snapshot started, so
    // a schema created meanwhile is not silently left out.
    '--all-databases',
    ...SYSTEM_SCHEMAS.map((s) => `--ignore-database=${s}`),
  ],
  accounts: {
    list: () => ({
      // mysql.user is a view over mysql.global_priv listing users and roles.
      statements: [
        stmt('SELECT User AS user, Host AS host, is_role AS is_role FROM mysql.user ORDER BY User, Host'),
      ],
      parse: (results) =>
        (results[0] ?? []).map((r) => ({
          user: str(r, 'user'),
          host: str(r, 'host'),
          // 'Y' / 'N'
          role: str(r, 'is_role').toUpperCase() === 'Y',
        })),
    }),
    definition(a) {
      const name = a.role ? quoteString(a.user) : `${quoteString(a.user)}@${quoteString(a.host)}`;
      return {
        statements: [...(a.role ? [] : [stmt(`SHOW CREATE USER ${name}`)]), stmt(`SHOW GRANTS FOR ${name}`)],
        parse(results) {
          const create = a.role
            ? `CREATE ROLE IF NOT EXISTS ${name}`
            : ifNotExists(firstColumn(results[0]?.[0]), name);
          const grants = (results[a.role ? 0 : 1] ?? []).map((r) => firstColumn(r));
          // The hash in IDENTIFIED BY PASSWORD is as sensitive as a password: shown as ***.
          return [create, ...grants].map((sql) => ({ sql, redacted: redactAuth(sql) }));
        },
      };
    },
  },
  restoreClient: (e) => ['mariadb', ...clientArgs(e), '--binary-mode', PACKET],
  restorePrelude: () => 'SET SESSION sql_log_bin=0;\n',
  dumpPositionMarker: 'SET GLOBAL gtid_slave_pos=',
  dumpPosition(text) {
    const m = DUMP_POSITION.exec(text);
    return m ? m[1].replace(/\s+/g, '') : null;
  },
  // RESET MASTER empties gtid_binlog_state: gtid_strict_mode refuses a replica position below
  // the binlog's, and the new replica must have no GTIDs of its own. Emptying gtid_slave_pos too
  // leaves no GTID state at all while the copy runs, so every runbook sees the half-restored
  // server as unprovisioned and never points it at a primary (domain/provision/unprovisioned.ts).
  resetForRestore: (_version, replicating) => [
    ...(replicating ? [stmt('STOP SLAVE'), stmt('RESET SLAVE ALL')] : []),
    stmt('RESET MASTER'),
    stmt("SET GLOBAL gtid_slave_pos=''"),
  ],
  // GRANT ALL includes READ ONLY ADMIN: the worker's account writes through read_only.
  restoreWritable: () => [],
  restoreDone: () => [],
  setReplicaPosition: (position) => [stmt(`SET GLOBAL gtid_slave_pos=${quoteString(position)}`)],
  physicalTools: { donor: 'mariadb-backup', target: ['mbstream', 'mariadb-backup'] },
  physicalBackup: (e, datadir) => [
    'mariadb-backup',
    ...clientArgs(e),
    '--backup',
    '--stream=xbstream',
    // The server's own datadir, over whatever a [mysqld] section of the host's my.cnf says.
    `--datadir=${checkPath(datadir, 'donor datadir')}`,
  ],
  physicalExtract: (datadir) => ['mbstream', '-x', '-C', checkPath(datadir, 'target datadir')],
  physicalPrepare: (datadir) => [
    'mariadb-backup',
    '--prepare',
    `--target-dir=${checkPath(datadir, 'target datadir')}`,
  ],
  // 10.11 still writes the xtrabackup_ name; 11.x renamed it.
  binlogInfoFiles: ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info'],
  parseBinlogInfo: parseBinlogInfoText,
  donorStateFiles: ['master.info', 'relay-log.info', 'multi-master.info'],
  stopApplying: () => [stmt('STOP SLAVE')],
  // Both threads stop at the position; UNTIL master_gtid_pos needs them stopped before.
  startUntil: (position) => [stmt(`START SLAVE UNTIL master_gtid_pos=${quoteString(position)}`)],
  userSchemas: () => userSchemasProbe('information_schema.INNODB_SYS_TABLESPACES'),
  totalDataBytes: () => totalDataBytesProbe('information_schema.INNODB_SYS_TABLESPACES'),
  userTables: userTablesProbe,
  dropSchema: dropSchemaStatement,
  checksumTable: checksumTableProbe,
};

function firstColumn(row: Row | undefined): string {
  const v = row ? Object.values(row)[0] : undefined;
  if (v === undefined || v === null) throw new Error('SHOW CREATE USER / SHOW GRANTS returned no row');
  return String(v);
}

function ifNotExists(create: string, name: string): string {
  if (!/^CREATE USER /i.test(create)) throw new Error(`unexpected SHOW CREATE USER output for ${name}`);
  return create.replace(/^CREATE USER /i, 'CREATE USER IF NOT EXISTS ');
}

function redactAuth(sql: string): string {
  return sql.replace(/\b(PASSWORD|AS|USING)\s+'(?:[^'\\]|\\.|'')*'/gi, "$1 '***'");
}
