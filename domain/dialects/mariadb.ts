// MariaDB 10.11 (MASTER_DEMOTE_TO_SLAVE needs 10.10+). MariaDB keeps the SLAVE/MASTER statement
// names; GTIDs are domain-server-sequence positions, not UUID sets.
import type {
  Dialect,
  GtidPosition,
  NodeFacts,
  Probe,
  ReplicationStatus,
  RepointOptions,
  Statement,
} from './dialect';
import { mariadbBackup } from './backupMariadb';
import { compatFactsProbe, type CompatStatements } from './compatFacts';
import { quoteString, sqlInteger, sqlSeconds } from './escape';
import { PROCESSLIST_COLUMNS, parseSessionRows } from './sessions';
import { longTransactionsProbe } from './transactions';
import { bool, firstRow, gtidSet, num, numOrNull, str, stmt, threadState } from './rows';

function nodeFacts(): Probe<NodeFacts> {
  return {
    statements: [
      stmt(
        'SELECT @@version AS version, @@server_id AS server_id, @@read_only AS read_only, ' +
          '@@log_bin AS log_bin, @@log_slave_updates AS log_slave_updates, ' +
          '@@gtid_strict_mode AS gtid_strict_mode, @@gtid_domain_id AS gtid_domain_id, ' +
          '@@auto_increment_increment AS auto_increment_increment, @@auto_increment_offset AS auto_increment_offset, ' +
          "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME') AS uptime",
      ),
    ],
    parse(results) {
      const r = firstRow(results, 0, 'node facts');
      return {
        version: str(r, 'version'),
        serverId: num(r, 'server_id'),
        readOnly: bool(r, 'read_only'),
        superReadOnly: null,
        uptimeSeconds: numOrNull(r, 'uptime') ?? 0,
        logBin: bool(r, 'log_bin'),
        autoIncrement: {
          increment: num(r, 'auto_increment_increment'),
          offset: num(r, 'auto_increment_offset'),
        },
        logReplicaUpdates: bool(r, 'log_slave_updates'),
        gtid: {
          enabled: true,
          mode: 'ON',
          strict: bool(r, 'gtid_strict_mode'),
          domainId: num(r, 'gtid_domain_id'),
          serverUuid: null,
        },
      };
    },
  };
}

function replicationStatus(): Probe<ReplicationStatus | null> {
  return {
    // SHOW SLAVE STATUS has only the received position; the applied one is a variable.
    statements: [stmt('SHOW SLAVE STATUS'), stmt('SELECT @@gtid_slave_pos AS gtid_slave_pos')],
    parse(results) {
      const r = results[0]?.[0];
      if (!r || str(r, 'Master_Host') === '') return null;
      const usingGtid = str(r, 'Using_Gtid').toLowerCase();
      return {
        sourceHost: str(r, 'Master_Host'),
        sourcePort: num(r, 'Master_Port'),
        sourceUser: str(r, 'Master_User'),
        sourceServerId: numOrNull(r, 'Master_Server_Id') || null,
        ioRunning: threadState(str(r, 'Slave_IO_Running')),
        sqlRunning: threadState(str(r, 'Slave_SQL_Running')),
        ioState: str(r, 'Slave_IO_State'),
        sqlState: str(r, 'Slave_SQL_Running_State'),
        lagSeconds: numOrNull(r, 'Seconds_Behind_Master'),
        lastIoErrno: numOrNull(r, 'Last_IO_Errno') ?? 0,
        lastIoError: str(r, 'Last_IO_Error'),
        lastSqlErrno: numOrNull(r, 'Last_SQL_Errno') ?? 0,
        lastSqlError: str(r, 'Last_SQL_Error'),
        gtidReceived: gtidSet(r, 'Gtid_IO_Pos'),
        gtidExecuted: results[1]?.[0] ? gtidSet(results[1][0], 'gtid_slave_pos') : '',
        autoPosition: usingGtid !== '' && usingGtid !== 'no',
      };
    },
  };
}

function gtidPosition(): Probe<GtidPosition> {
  return {
    statements: [
      stmt(
        'SELECT @@gtid_binlog_pos AS gtid_binlog_pos, @@gtid_current_pos AS gtid_current_pos, ' +
          '@@gtid_slave_pos AS gtid_slave_pos, @@gtid_binlog_state AS gtid_binlog_state',
      ),
    ],
    parse(results) {
      const r = firstRow(results, 0, 'GTID position');
      return {
        position: gtidSet(r, 'gtid_binlog_pos'),
        current: gtidSet(r, 'gtid_current_pos'),
        replica: gtidSet(r, 'gtid_slave_pos'),
        binlogState: gtidSet(r, 'gtid_binlog_state'),
      };
    },
  };
}

function repoint(o: RepointOptions): Statement[] {
  const options = (password: string) =>
    [
      `MASTER_HOST=${quoteString(o.sourceHost)}`,
      `MASTER_PORT=${sqlInteger(o.sourcePort, 'source port', 1)}`,
      `MASTER_USER=${quoteString(o.user)}`,
      `MASTER_PASSWORD=${password}`,
      'MASTER_USE_GTID=slave_pos',
      // Without it a demoted primary asks the new source for transactions it already has.
      ...(o.demote ? ['MASTER_DEMOTE_TO_SLAVE=1'] : []),
      ...(o.connectRetrySeconds !== undefined
        ? [`MASTER_CONNECT_RETRY=${sqlInteger(o.connectRetrySeconds, 'connect retry (seconds)', 1)}`]
        : []),
      ...(o.heartbeatPeriodSeconds !== undefined
        ? [`MASTER_HEARTBEAT_PERIOD=${sqlSeconds(o.heartbeatPeriodSeconds, 'heartbeat period')}`]
        : []),
    ].join(', ');
  return [
    stmt('STOP SLAVE'),
    {
      sql: `CHANGE MASTER TO ${options(quoteString(o.password))}`,
      redacted: `CHANGE MASTER TO ${options("'***'")}`,
    },
    stmt('START SLAVE'),
  ];
}

const COMPAT_STATEMENTS: CompatStatements = {
  // AUTO (sized by the server) and ENVIRONMENT (basedir) are not settings anyone chose.
  variables: stmt(
    "SELECT VARIABLE_NAME AS name, GLOBAL_VALUE AS value FROM information_schema.SYSTEM_VARIABLES WHERE GLOBAL_VALUE_ORIGIN IN ('CONFIG', 'COMMAND-LINE', 'SQL') ORDER BY VARIABLE_NAME",
  ),
  replication: (names) =>
    stmt(
      `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN (${names.map(quoteString).join(', ')})`,
    ),
  // Only the plugin names out of the Priv JSON, never authentication_string. An account without a
  // plugin key predates 10.4's global_priv and uses mysql_native_password; roles and locked
  // accounts (mariadb.sys) cannot log in, so their plugin does not matter.
  accounts: stmt(
    "SELECT User AS user, Host AS host, COALESCE(JSON_VALUE(Priv, '$.plugin'), 'mysql_native_password') AS plugin, JSON_EXTRACT(Priv, '$.auth_or[*].plugin') AS alternatives FROM mysql.global_priv WHERE COALESCE(JSON_VALUE(Priv, '$.is_role'), 'false') NOT IN ('true', '1') AND COALESCE(JSON_VALUE(Priv, '$.account_locked'), 'false') NOT IN ('true', '1') ORDER BY User, Host",
  ),
};

export const mariadb: Dialect = {
  flavor: 'mariadb',
  readOnlyOn: (timeoutSeconds) => [
    // Setting read_only takes the global read lock: bound the wait instead of queueing forever
    // behind a long statement. SET STATEMENT leaves the session's own lock_wait_timeout alone.
    stmt(
      `SET STATEMENT lock_wait_timeout=${sqlInteger(Math.max(1, Math.ceil(timeoutSeconds)), 'read-only timeout', 1)} FOR SET GLOBAL read_only=1`,
    ),
  ],
  readOnlyOff: () => [stmt('SET GLOBAL read_only=0')],
  nodeFacts,
  replicationStatus,
  gtidPosition,
  waitUntilApplied: (position, timeoutSeconds) => ({
    statements: [
      stmt(
        `SELECT MASTER_GTID_WAIT(${quoteString(position)}, ${sqlSeconds(timeoutSeconds, 'GTID wait timeout')}) AS result`,
      ),
    ],
    parse(results) {
      const v = numOrNull(firstRow(results, 0, 'GTID wait'), 'result');
      if (v === 0) return 'reached';
      if (v === -1) return 'timeout';
      throw new Error(`MASTER_GTID_WAIT returned ${String(v)}, expected 0 or -1`);
    },
  }),
  stopAndForgetReplication: () => [stmt('STOP SLAVE'), stmt('RESET SLAVE ALL')],
  repoint,
  startReplication: () => [stmt('START SLAVE')],
  stopReceiving: () => [stmt('STOP SLAVE IO_THREAD')],
  startReceiving: () => [stmt('START SLAVE IO_THREAD')],
  readOnlyOptions: () => ['read_only=ON'],
  sessions: () => ({
    statements: [stmt(`SELECT ${PROCESSLIST_COLUMNS}`)],
    parse: (results) => parseSessionRows(results[0] ?? []),
  }),
  kill: (id) => stmt(`KILL CONNECTION ${sqlInteger(id, 'connection id', 1)}`),
  longTransactions: longTransactionsProbe,
  compatFacts: (watchedWords) => compatFactsProbe('mariadb', COMPAT_STATEMENTS, watchedWords),
  backup: mariadbBackup,
};
