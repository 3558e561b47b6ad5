// MySQL 8.0.23 and newer, including 8.4, which removed the SLAVE/MASTER statement names: only the
// REPLICA/SOURCE forms are used here (SHOW REPLICA STATUS and its Source_/Replica_ columns since
// 8.0.22, CHANGE REPLICATION SOURCE TO since 8.0.23). GTIDs are UUID:interval sets.
import type {
  Dialect,
  GtidPosition,
  NodeFacts,
  Probe,
  ReplicationStatus,
  RepointOptions,
  Row,
  Statement,
} from './dialect';
import { mysqlBackup } from './backupMysql';
import { compatFactsProbe, type CompatStatements } from './compatFacts';
import { quoteString, sqlInteger, sqlSeconds } from './escape';
import { PROCESSLIST_COLUMNS, parseSessionRows } from './sessions';
import { longTransactionsProbe } from './transactions';
import { bool, firstRow, gtidSet, num, numOrNull, str, strOrNull, stmt, threadState } from './rows';

function nodeFacts(): Probe<NodeFacts> {
  return {
    statements: [
      stmt(
        'SELECT @@version AS version, @@server_id AS server_id, @@read_only AS read_only, ' +
          '@@super_read_only AS super_read_only, @@log_bin AS log_bin, @@gtid_mode AS gtid_mode, ' +
          '@@enforce_gtid_consistency AS enforce_gtid_consistency, @@server_uuid AS server_uuid, ' +
          '@@auto_increment_increment AS auto_increment_increment, @@auto_increment_offset AS auto_increment_offset, ' +
          // information_schema.GLOBAL_STATUS is gone in MySQL 8.
          "(SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Uptime') AS uptime",
      ),
    ],
    parse(results) {
      const r = firstRow(results, 0, 'node facts');
      const mode = str(r, 'gtid_mode').toUpperCase();
      return {
        version: str(r, 'version'),
        serverId: num(r, 'server_id'),
        readOnly: bool(r, 'read_only'),
        superReadOnly: bool(r, 'super_read_only'),
        uptimeSeconds: numOrNull(r, 'uptime') ?? 0,
        logBin: bool(r, 'log_bin'),
        autoIncrement: {
          increment: num(r, 'auto_increment_increment'),
          offset: num(r, 'auto_increment_offset'),
        },
        // log_slave_updates was renamed log_replica_updates in 8.0.26; neither spans 8.0.23-8.4.
        logReplicaUpdates: null,
        gtid: {
          enabled: mode === 'ON',
          mode,
          strict:
            str(r, 'enforce_gtid_consistency').toUpperCase() === 'ON' || bool(r, 'enforce_gtid_consistency'),
          domainId: null,
          serverUuid: strOrNull(r, 'server_uuid'),
        },
      };
    },
  };
}

/** Multi-source is out of scope: the default channel, else the first. */
function defaultChannel(rows: Row[] | undefined): Row | undefined {
  return rows?.find((r) => str(r, 'Channel_Name') === '') ?? rows?.[0];
}

function replicationStatus(): Probe<ReplicationStatus | null> {
  return {
    statements: [stmt('SHOW REPLICA STATUS')],
    parse(results) {
      const r = defaultChannel(results[0]);
      if (!r || str(r, 'Source_Host') === '') return null;
      return {
        sourceHost: str(r, 'Source_Host'),
        sourcePort: num(r, 'Source_Port'),
        sourceUser: str(r, 'Source_User'),
        sourceServerId: numOrNull(r, 'Source_Server_Id') || null,
        ioRunning: threadState(str(r, 'Replica_IO_Running')),
        sqlRunning: threadState(str(r, 'Replica_SQL_Running')),
        ioState: str(r, 'Replica_IO_State'),
        sqlState: str(r, 'Replica_SQL_Running_State'),
        lagSeconds: numOrNull(r, 'Seconds_Behind_Source'),
        lastIoErrno: numOrNull(r, 'Last_IO_Errno') ?? 0,
        lastIoError: str(r, 'Last_IO_Error'),
        lastSqlErrno: numOrNull(r, 'Last_SQL_Errno') ?? 0,
        lastSqlError: str(r, 'Last_SQL_Error'),
        gtidReceived: gtidSet(r, 'Retrieved_Gtid_Set'),
        gtidExecuted: gtidSet(r, 'Executed_Gtid_Set'),
        autoPosition: bool(r, 'Auto_Position'),
      };
    },
  };
}

function gtidPosition(): Probe<GtidPosition> {
  return {
    statements: [stmt('SELECT @@GLOBAL.gtid_executed AS gtid_executed')],
    parse(results) {
      const executed = gtidSet(firstRow(results, 0, 'GTID position'), 'gtid_executed');
      return { position: executed, current: executed, replica: null, binlogState: null };
    },
  };
}

function repoint(o: RepointOptions): Statement[] {
  // `demote` needs nothing here: auto-positioning sends gtid_executed, which has the node's own writes.
  const options = (password: string) =>
    [
      `SOURCE_HOST=${quoteString(o.sourceHost)}`,
      `SOURCE_PORT=${sqlInteger(o.sourcePort, 'source port', 1)}`,
      `SOURCE_USER=${quoteString(o.user)}`,
      `SOURCE_PASSWORD=${password}`,
      'SOURCE_AUTO_POSITION=1',
      ...(o.connectRetrySeconds !== undefined
        ? [`SOURCE_CONNECT_RETRY=${sqlInteger(o.connectRetrySeconds, 'connect retry (seconds)', 1)}`]
        : []),
      ...(o.heartbeatPeriodSeconds !== undefined
        ? [`SOURCE_HEARTBEAT_PERIOD=${sqlSeconds(o.heartbeatPeriodSeconds, 'heartbeat period')}`]
        : []),
      ...(o.getSourcePublicKey ? ['GET_SOURCE_PUBLIC_KEY=1'] : []),
    ].join(', ');
  return [
    stmt('STOP REPLICA'),
    {
      sql: `CHANGE REPLICATION SOURCE TO ${options(quoteString(o.password))}`,
      redacted: `CHANGE REPLICATION SOURCE TO ${options("'***'")}`,
    },
    stmt('START REPLICA'),
  ];
}

const COMPAT_STATEMENTS: CompatStatements = {
  variables: stmt(
    "SELECT vi.VARIABLE_NAME AS name, gv.VARIABLE_VALUE AS value FROM performance_schema.variables_info vi JOIN performance_schema.global_variables gv ON gv.VARIABLE_NAME = vi.VARIABLE_NAME WHERE vi.VARIABLE_SOURCE <> 'COMPILED' ORDER BY vi.VARIABLE_NAME",
  ),
  replication: (names) =>
    stmt(
      `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM performance_schema.global_variables WHERE VARIABLE_NAME IN (${names.map(quoteString).join(', ')})`,
    ),
  // Never authentication_string. Locked accounts (mysql.sys, mysql.session, roles) cannot log in.
  accounts: stmt(
    "SELECT User AS user, Host AS host, plugin FROM mysql.user WHERE account_locked = 'N' ORDER BY User, Host",
  ),
};

export const mysql: Dialect = {
  flavor: 'mysql',
  readOnlyOn: (timeoutSeconds) => [
    // super_read_only also stops SUPER accounts and implies read_only. SET_VAR cannot hint a SET,
    // so the bound is a session value, restored right after.
    stmt(
      `SET SESSION lock_wait_timeout=${sqlInteger(Math.max(1, Math.ceil(timeoutSeconds)), 'read-only timeout', 1)}`,
    ),
    stmt('SET GLOBAL super_read_only=ON'),
    stmt('SET SESSION lock_wait_timeout=DEFAULT'),
  ],
  // super_read_only=OFF leaves read_only on; both must go.
  readOnlyOff: () => [stmt('SET GLOBAL super_read_only=OFF'), stmt('SET GLOBAL read_only=OFF')],
  nodeFacts,
  replicationStatus,
  gtidPosition,
  waitUntilApplied: (position, timeoutSeconds) => ({
    statements: [
      stmt(
        `SELECT WAIT_FOR_EXECUTED_GTID_SET(${quoteString(position)}, ${sqlSeconds(timeoutSeconds, 'GTID wait timeout')}) AS result`,
      ),
    ],
    parse(results) {
      const v = numOrNull(firstRow(results, 0, 'GTID wait'), 'result');
      if (v === 0) return 'reached';
      if (v === 1) return 'timeout';
      throw new Error(`WAIT_FOR_EXECUTED_GTID_SET returned ${String(v)}, expected 0 or 1`);
    },
  }),
  stopAndForgetReplication: () => [stmt('STOP REPLICA'), stmt('RESET REPLICA ALL')],
  repoint,
  startReplication: () => [stmt('START REPLICA')],
  stopReceiving: () => [stmt('STOP REPLICA IO_THREAD')],
  startReceiving: () => [stmt('START REPLICA IO_THREAD')],
  // super_read_only also stops SUPER / CONNECTION_ADMIN accounts, as at runtime.
  readOnlyOptions: () => ['read_only=ON', 'super_read_only=ON'],
  sessions: () => ({
    statements: [stmt(`SELECT ${PROCESSLIST_COLUMNS}`)],
    parse: (results) => parseSessionRows(results[0] ?? []),
  }),
  kill: (id) => stmt(`KILL CONNECTION ${sqlInteger(id, 'connection id', 1)}`),
  longTransactions: longTransactionsProbe,
  compatFacts: (watchedWords) => compatFactsProbe('mysql', COMPAT_STATEMENTS, watchedWords),
  backup: mysqlBackup,
};
