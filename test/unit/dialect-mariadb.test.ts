import { dialectFor, killableSessions, type Row } from '../../domain/dialects';

const d = dialectFor('mariadb');
const sqls = (s: { sql: string }[]) => s.map((x) => x.sql);

// As mysql2 returns SHOW SLAVE STATUS from MariaDB 10.11.19 (captured from a real replica).
const slaveStatus: Row = {
  Slave_IO_State: 'Waiting for master to send event',
  Master_Host: '10.77.0.11',
  Master_User: 'repl',
  Master_Port: 3306,
  Connect_Retry: 1,
  Master_Log_File: 'bin.000001',
  Read_Master_Log_Pos: 322,
  Relay_Log_File: 'db2-relay-bin.000002',
  Relay_Log_Pos: 615,
  Relay_Master_Log_File: 'bin.000001',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Replicate_Do_DB: '',
  Replicate_Ignore_DB: '',
  Replicate_Do_Table: '',
  Replicate_Ignore_Table: '',
  Replicate_Wild_Do_Table: '',
  Replicate_Wild_Ignore_Table: '',
  Last_Errno: 0,
  Last_Error: '',
  Skip_Counter: 0,
  Exec_Master_Log_Pos: 322,
  Relay_Log_Space: 922,
  Until_Condition: 'None',
  Until_Log_File: '',
  Until_Log_Pos: 0,
  Master_SSL_Allowed: 'No',
  Master_SSL_CA_File: '',
  Master_SSL_CA_Path: '',
  Master_SSL_Cert: '',
  Master_SSL_Cipher: '',
  Master_SSL_Key: '',
  Seconds_Behind_Master: 3,
  Master_SSL_Verify_Server_Cert: 'No',
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Replicate_Ignore_Server_Ids: '',
  Master_Server_Id: 1,
  Master_SSL_Crl: '',
  Master_SSL_Crlpath: '',
  Using_Gtid: 'Slave_Pos',
  Gtid_IO_Pos: '0-1-42',
  Replicate_Do_Domain_Ids: '',
  Replicate_Ignore_Domain_Ids: '',
  Parallel_Mode: 'optimistic',
  SQL_Delay: 0,
  SQL_Remaining_Delay: null,
  Slave_SQL_Running_State: 'Slave has read all relay log; waiting for more updates',
  Slave_DDL_Groups: 2,
  Slave_Non_Transactional_Groups: 0,
  Slave_Transactional_Groups: 40,
  Replicate_Rewrite_DB: '',
};

describe('MariaDB read-only', () => {
  it('bounds the global lock wait in the same statement', () => {
    expect(sqls(d.readOnlyOn(5))).toEqual(['SET STATEMENT lock_wait_timeout=5 FOR SET GLOBAL read_only=1']);
    expect(sqls(d.readOnlyOn(0.2))).toEqual(['SET STATEMENT lock_wait_timeout=1 FOR SET GLOBAL read_only=1']);
    expect(sqls(d.readOnlyOff())).toEqual(['SET GLOBAL read_only=0']);
  });
});

describe('MariaDB node facts', () => {
  it('parses the row mysql2 returns', () => {
    const p = d.nodeFacts();
    expect(p.statements[0]?.sql).toContain('information_schema.GLOBAL_STATUS');
    const row = {
      version: '10.11.19-MariaDB-0+deb12u1-log',
      server_id: 2,
      read_only: 1,
      log_bin: 1,
      log_slave_updates: 1,
      gtid_strict_mode: 0,
      gtid_domain_id: 0,
      auto_increment_increment: 2,
      auto_increment_offset: 1,
      uptime: '118',
    };
    expect(p.parse([[row]])).toEqual({
      version: '10.11.19-MariaDB-0+deb12u1-log',
      serverId: 2,
      readOnly: true,
      superReadOnly: null,
      uptimeSeconds: 118,
      logBin: true,
      autoIncrement: { increment: 2, offset: 1 },
      logReplicaUpdates: true,
      gtid: { enabled: true, mode: 'ON', strict: false, domainId: 0, serverUuid: null },
    });
    expect(p.parse([[{ ...row, read_only: 0 }]]).readOnly).toBe(false);
  });
  it('fails clearly on an empty result', () => expect(() => d.nodeFacts().parse([[]])).toThrow(/node facts/));
});

describe('MariaDB replication status', () => {
  const p = d.replicationStatus();
  it('reads SHOW SLAVE STATUS and the applied position', () => {
    expect(sqls(p.statements)).toEqual(['SHOW SLAVE STATUS', 'SELECT @@gtid_slave_pos AS gtid_slave_pos']);
  });
  it('normalises a healthy replica', () => {
    expect(p.parse([[slaveStatus], [{ gtid_slave_pos: '0-1-40' }]])).toEqual({
      sourceHost: '10.77.0.11',
      sourcePort: 3306,
      sourceUser: 'repl',
      sourceServerId: 1,
      ioRunning: 'yes',
      sqlRunning: 'yes',
      ioState: 'Waiting for master to send event',
      sqlState: 'Slave has read all relay log; waiting for more updates',
      lagSeconds: 3,
      lastIoErrno: 0,
      lastIoError: '',
      lastSqlErrno: 0,
      lastSqlError: '',
      gtidReceived: '0-1-42',
      gtidExecuted: '0-1-40',
      autoPosition: true,
    });
  });
  it('reports a replica that cannot connect, with unknown lag', () => {
    const s = p.parse([
      [
        {
          ...slaveStatus,
          Slave_IO_Running: 'Connecting',
          Seconds_Behind_Master: null,
          Master_Server_Id: 0,
          Last_IO_Errno: 1045,
          Last_IO_Error: "error connecting to master 'repl@10.77.0.11:3306' - Access denied",
        },
      ],
      [{ gtid_slave_pos: '' }],
    ]);
    expect(s).toMatchObject({
      ioRunning: 'connecting',
      lagSeconds: null,
      lastIoErrno: 1045,
      sourceServerId: null,
    });
    expect(s?.lastIoError).toMatch(/Access denied/);
  });
  it('reports a stopped SQL thread with its error, and binlog positioning', () => {
    const s = p.parse([
      [
        {
          ...slaveStatus,
          Slave_SQL_Running: 'No',
          Last_SQL_Errno: 1146,
          Last_SQL_Error: "Table 'app.t' doesn't exist",
          Using_Gtid: 'No',
        },
      ],
      [{ gtid_slave_pos: '0-1-1' }],
    ]);
    expect(s).toMatchObject({ sqlRunning: 'no', lastSqlErrno: 1146, autoPosition: false });
  });
  it('is null when the node is not a replica', () => {
    expect(p.parse([[], [{ gtid_slave_pos: '' }]])).toBeNull();
    expect(p.parse([[{ ...slaveStatus, Master_Host: '' }], []])).toBeNull();
  });
});

describe('MariaDB GTID position and wait', () => {
  it('uses the binlog position as the position to wait for', () => {
    const p = d.gtidPosition();
    expect(p.statements[0]?.sql).toMatch(
      /@@gtid_binlog_pos.*@@gtid_current_pos.*@@gtid_slave_pos.*@@gtid_binlog_state/,
    );
    expect(
      p.parse([
        [
          {
            gtid_binlog_pos: '0-1-3,1-5-9',
            gtid_current_pos: '0-1-3,1-5-9',
            gtid_slave_pos: '0-2-1',
            gtid_binlog_state: '0-2-1,0-1-3,1-5-9',
          },
        ],
      ]),
    ).toEqual({
      position: '0-1-3,1-5-9',
      current: '0-1-3,1-5-9',
      replica: '0-2-1',
      binlogState: '0-2-1,0-1-3,1-5-9',
    });
  });
  it('waits server-side and reads 0 as reached, -1 as timeout', () => {
    const w = d.waitUntilApplied('0-1-3', 2.5);
    expect(sqls(w.statements)).toEqual(["SELECT MASTER_GTID_WAIT('0-1-3', 2.5) AS result"]);
    expect(w.parse([[{ result: 0 }]])).toBe('reached');
    expect(w.parse([[{ result: -1 }]])).toBe('timeout');
    expect(() => w.parse([[{ result: null }]])).toThrow(/MASTER_GTID_WAIT/);
  });
  it('escapes a hostile position', () => {
    expect(d.waitUntilApplied("0-1-3'), SLEEP(10); --", 1).statements[0]?.sql).toBe(
      "SELECT MASTER_GTID_WAIT('0-1-3''), SLEEP(10); --', 1) AS result",
    );
  });
});

describe('MariaDB promote and repoint', () => {
  it('stops and forgets replication', () => {
    expect(sqls(d.stopAndForgetReplication())).toEqual(['STOP SLAVE', 'RESET SLAVE ALL']);
    expect(sqls(d.startReplication())).toEqual(['START SLAVE']);
  });
  it('stops and starts only the IO thread while a recovery decides', () => {
    expect(sqls(d.stopReceiving())).toEqual(['STOP SLAVE IO_THREAD']);
    expect(sqls(d.startReceiving())).toEqual(['START SLAVE IO_THREAD']);
  });
  it('points at a new source with GTIDs, and never shows the password in the redacted form', () => {
    const s = d.repoint({ sourceHost: '10.77.0.12', sourcePort: 3306, user: 'repl', password: "s3cr'et" });
    expect(sqls(s)).toEqual([
      'STOP SLAVE',
      "CHANGE MASTER TO MASTER_HOST='10.77.0.12', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='s3cr''et', MASTER_USE_GTID=slave_pos",
      'START SLAVE',
    ]);
    expect(s[1]?.redacted).toBe(
      "CHANGE MASTER TO MASTER_HOST='10.77.0.12', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='***', MASTER_USE_GTID=slave_pos",
    );
    expect(s.map((x) => x.redacted).join(' ')).not.toContain('s3cr');
  });
  it('demotes an old primary and passes the options', () => {
    const s = d.repoint({
      sourceHost: '10.77.0.12',
      sourcePort: 3307,
      user: 'repl',
      password: 'p',
      demote: true,
      connectRetrySeconds: 1,
      heartbeatPeriodSeconds: 0.5,
    });
    expect(s[1]?.sql).toBe(
      "CHANGE MASTER TO MASTER_HOST='10.77.0.12', MASTER_PORT=3307, MASTER_USER='repl', MASTER_PASSWORD='p', " +
        'MASTER_USE_GTID=slave_pos, MASTER_DEMOTE_TO_SLAVE=1, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=0.5',
    );
  });
  it('refuses a port that is not a port', () => {
    expect(() => d.repoint({ sourceHost: 'h', sourcePort: 0, user: 'u', password: 'p' })).toThrow(
      /source port/,
    );
  });
});

describe('MariaDB sessions', () => {
  // information_schema.PROCESSLIST on a MariaDB 10.11 primary with a replica and clients.
  const rows: Row[] = [
    {
      ID: 8,
      USER: 'successover',
      HOST: '10.77.0.1:55724',
      DB: null,
      COMMAND: 'Query',
      TIME: 0,
      STATE: 'Filling schema table',
      OWN_ID: 8,
    },
    {
      ID: 13,
      USER: 'repl',
      HOST: '10.77.0.12:60666',
      DB: null,
      COMMAND: 'Binlog Dump',
      TIME: 102,
      STATE: 'Master has sent all binlog to slave; waiting for more updates',
      OWN_ID: 8,
    },
    {
      ID: 6,
      USER: 'system user',
      HOST: '',
      DB: null,
      COMMAND: 'Slave_SQL',
      TIME: 102,
      STATE: 'Slave has read all relay log; waiting for more updates',
      OWN_ID: 8,
    },
    {
      ID: 5,
      USER: 'system user',
      HOST: '',
      DB: null,
      COMMAND: 'Slave_IO',
      TIME: 107,
      STATE: 'Waiting for master to send event',
      OWN_ID: 8,
    },
    {
      ID: 7,
      USER: 'system user',
      HOST: '',
      DB: null,
      COMMAND: 'Connect',
      TIME: 1,
      STATE: 'Connecting to master',
      OWN_ID: 8,
    },
    {
      ID: 9,
      USER: 'system user',
      HOST: '',
      DB: null,
      COMMAND: 'Slave_worker',
      TIME: 3,
      STATE: 'Waiting for work from SQL thread',
      OWN_ID: 8,
    },
    {
      ID: 2,
      USER: 'event_scheduler',
      HOST: 'localhost',
      DB: null,
      COMMAND: 'Daemon',
      TIME: 500,
      STATE: 'Waiting on empty queue',
      OWN_ID: 8,
    },
    {
      ID: 21,
      USER: 'app',
      HOST: '10.77.0.1:40000',
      DB: 'app',
      COMMAND: 'Sleep',
      TIME: 4,
      STATE: '',
      OWN_ID: 8,
    },
    {
      ID: 22,
      USER: 'root',
      HOST: 'localhost',
      DB: null,
      COMMAND: 'Query',
      TIME: 1,
      STATE: 'Update',
      OWN_ID: 8,
    },
    {
      ID: 23,
      USER: 'app',
      HOST: '10.77.0.1:40002',
      DB: 'app',
      COMMAND: 'Killed',
      TIME: 0,
      STATE: '',
      OWN_ID: 8,
    },
  ];
  it('kills clients, including SUPER accounts, and nothing else', () => {
    const list = d.sessions().parse([rows]);
    expect(list.ownId).toBe(8);
    expect(killableSessions(list).map((s) => s.id)).toEqual([21, 22]);
  });
  it('leaves protected accounts alone', () => {
    const list = d.sessions().parse([rows]);
    expect(killableSessions(list, { protectedUsers: ['root'] }).map((s) => s.id)).toEqual([21]);
  });
  it('never kills its own session even under another name', () => {
    const list = d.sessions().parse([[{ ...rows[0], USER: 'app' }]]);
    expect(killableSessions(list)).toEqual([]);
  });
  it('reads the list with its own connection id and kills by id', () => {
    expect(d.sessions().statements[0]?.sql).toMatch(
      /CONNECTION_ID\(\) AS OWN_ID FROM information_schema\.PROCESSLIST/,
    );
    expect(d.kill(21).sql).toBe('KILL CONNECTION 21');
    expect(() => d.kill(0)).toThrow();
    expect(() => d.kill(Number.NaN)).toThrow();
  });
});

describe('MariaDB long transactions', () => {
  it('selects transactions older than the threshold and parses them without statement text', () => {
    const p = d.longTransactions(60);
    expect(p.statements[0]?.sql).toMatch(/INNODB_TRX.*PROCESSLIST.*INTERVAL 60 SECOND/);
    const got = p.parse([
      [
        {
          TRX_ID: '1234',
          CONNECTION_ID: 21,
          SECONDS: 75,
          STATE: 'RUNNING',
          ROWS_MODIFIED: 3,
          USER: 'app',
          HOST: '10.77.0.1:40000',
          DB: 'app',
        },
      ],
    ]);
    expect(got).toEqual([
      {
        trxId: '1234',
        connectionId: 21,
        seconds: 75,
        state: 'RUNNING',
        rowsModified: 3,
        user: 'app',
        host: '10.77.0.1:40000',
        db: 'app',
      },
    ]);
    expect(() => d.longTransactions(-1)).toThrow();
  });
});
