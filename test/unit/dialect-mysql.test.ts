import { dialectFor, killableSessions, type Row } from '../../domain/dialects';

const d = dialectFor('mysql');
const sqls = (s: { sql: string }[]) => s.map((x) => x.sql);

// As mysql2 returns SHOW REPLICA STATUS from MySQL 8.4 (column names Source_/Replica_).
const replicaStatus: Row = {
  Replica_IO_State: 'Waiting for source to send event',
  Source_Host: '10.77.0.11',
  Source_User: 'repl',
  Source_Port: 3306,
  Connect_Retry: 60,
  Source_Log_File: 'binlog.000002',
  Read_Source_Log_Pos: 1543,
  Relay_Log_File: 'db2-relay-bin.000002',
  Relay_Log_Pos: 1759,
  Relay_Source_Log_File: 'binlog.000002',
  Replica_IO_Running: 'Yes',
  Replica_SQL_Running: 'Yes',
  Replicate_Do_DB: '',
  Last_Errno: 0,
  Last_Error: '',
  Skip_Counter: 0,
  Exec_Source_Log_Pos: 1543,
  Relay_Log_Space: 1969,
  Until_Condition: 'None',
  Source_SSL_Allowed: 'No',
  Seconds_Behind_Source: 0,
  Source_SSL_Verify_Server_Cert: 'No',
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Replicate_Ignore_Server_Ids: '',
  Source_Server_Id: 1,
  Source_UUID: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
  Source_Info_File: 'mysql.slave_master_info',
  SQL_Delay: 0,
  SQL_Remaining_Delay: null,
  Replica_SQL_Running_State: 'Replica has read all relay log; waiting for more updates',
  Source_Retry_Count: 10,
  Last_IO_Error_Timestamp: '',
  Last_SQL_Error_Timestamp: '',
  Retrieved_Gtid_Set: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7',
  Executed_Gtid_Set: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7,\n4f22ab58-71ca-11e1-9e33-c80aa9429563:1-2',
  Auto_Position: 1,
  Replicate_Rewrite_DB: '',
  Channel_Name: '',
  Source_TLS_Version: '',
  Source_public_key_path: '',
  Get_Source_public_key: 0,
  Network_Namespace: '',
};

describe('MySQL read-only', () => {
  it('uses super_read_only with a bounded lock wait, and turns both flags off', () => {
    expect(sqls(d.readOnlyOn(3))).toEqual([
      'SET SESSION lock_wait_timeout=3',
      'SET GLOBAL super_read_only=ON',
      'SET SESSION lock_wait_timeout=DEFAULT',
    ]);
    expect(sqls(d.readOnlyOff())).toEqual(['SET GLOBAL super_read_only=OFF', 'SET GLOBAL read_only=OFF']);
  });
});

describe('MySQL node facts', () => {
  it('parses version, read-only flags and GTID mode', () => {
    const p = d.nodeFacts();
    expect(p.statements[0]?.sql).toContain('performance_schema.global_status');
    const facts = p.parse([
      [
        {
          version: '8.4.3',
          server_id: 2,
          read_only: 1,
          super_read_only: 1,
          log_bin: 1,
          gtid_mode: 'ON',
          enforce_gtid_consistency: 'ON',
          server_uuid: '4f22ab58-71ca-11e1-9e33-c80aa9429563',
          auto_increment_increment: 1,
          auto_increment_offset: 1,
          uptime: '3600',
        },
      ],
    ]);
    expect(facts).toEqual({
      version: '8.4.3',
      serverId: 2,
      readOnly: true,
      superReadOnly: true,
      uptimeSeconds: 3600,
      logBin: true,
      autoIncrement: { increment: 1, offset: 1 },
      logReplicaUpdates: null,
      gtid: {
        enabled: true,
        mode: 'ON',
        strict: true,
        domainId: null,
        serverUuid: '4f22ab58-71ca-11e1-9e33-c80aa9429563',
      },
    });
  });
});

describe('MySQL replication status', () => {
  const p = d.replicationStatus();
  it('uses SHOW REPLICA STATUS (8.4 has no SHOW SLAVE STATUS)', () => {
    expect(sqls(p.statements)).toEqual(['SHOW REPLICA STATUS']);
  });
  it('normalises the row, joining GTID sets broken over lines', () => {
    expect(p.parse([[replicaStatus]])).toEqual({
      sourceHost: '10.77.0.11',
      sourcePort: 3306,
      sourceUser: 'repl',
      sourceServerId: 1,
      ioRunning: 'yes',
      sqlRunning: 'yes',
      ioState: 'Waiting for source to send event',
      sqlState: 'Replica has read all relay log; waiting for more updates',
      lagSeconds: 0,
      lastIoErrno: 0,
      lastIoError: '',
      lastSqlErrno: 0,
      lastSqlError: '',
      gtidReceived: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7',
      gtidExecuted: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7,4f22ab58-71ca-11e1-9e33-c80aa9429563:1-2',
      autoPosition: true,
    });
  });
  it('reports errors and unknown lag; null when not a replica', () => {
    const s = p.parse([
      [
        {
          ...replicaStatus,
          Replica_IO_Running: 'Connecting',
          Seconds_Behind_Source: null,
          Last_IO_Errno: 2003,
          Auto_Position: 0,
        },
      ],
    ]);
    expect(s).toMatchObject({
      ioRunning: 'connecting',
      lagSeconds: null,
      lastIoErrno: 2003,
      autoPosition: false,
    });
    expect(p.parse([[]])).toBeNull();
  });
  it('takes the default channel when there are several', () => {
    const s = p.parse([[{ ...replicaStatus, Channel_Name: 'other', Source_Host: 'x' }, replicaStatus]]);
    expect(s?.sourceHost).toBe('10.77.0.11');
  });
});

describe('MySQL GTIDs', () => {
  it('reads gtid_executed as the position', () => {
    const p = d.gtidPosition();
    expect(p.parse([[{ gtid_executed: 'a:1-5,\nb:1-2' }]])).toEqual({
      position: 'a:1-5,b:1-2',
      current: 'a:1-5,b:1-2',
      replica: null,
      binlogState: null,
    });
  });
  it('waits with WAIT_FOR_EXECUTED_GTID_SET: 0 reached, 1 timeout', () => {
    const w = d.waitUntilApplied('a:1-5', 10);
    expect(sqls(w.statements)).toEqual(["SELECT WAIT_FOR_EXECUTED_GTID_SET('a:1-5', 10) AS result"]);
    expect(w.parse([[{ result: 0 }]])).toBe('reached');
    expect(w.parse([[{ result: 1 }]])).toBe('timeout');
    expect(() => w.parse([[{ result: -1 }]])).toThrow();
  });
});

describe('MySQL promote and repoint', () => {
  it('uses the REPLICA/SOURCE statements only', () => {
    expect(sqls(d.stopAndForgetReplication())).toEqual(['STOP REPLICA', 'RESET REPLICA ALL']);
    const s = d.repoint({
      sourceHost: 'db1',
      sourcePort: 3306,
      user: 'repl',
      password: 'pw',
      demote: true,
      getSourcePublicKey: true,
    });
    expect(sqls(s)).toEqual([
      'STOP REPLICA',
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='pw', SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1",
      'START REPLICA',
    ]);
    expect(s[1]?.redacted).toContain("SOURCE_PASSWORD='***'");
    expect(s[1]?.redacted).not.toContain('pw');
    expect(s.map((x) => x.sql).join(' ')).not.toMatch(/SLAVE|MASTER/);
    expect(sqls([...d.stopReceiving(), ...d.startReceiving()])).toEqual([
      'STOP REPLICA IO_THREAD',
      'START REPLICA IO_THREAD',
    ]);
  });
});

describe('MySQL sessions', () => {
  it('never kills the replica threads, binlog dumps or the scheduler', () => {
    const rows: Row[] = [
      {
        ID: 5,
        USER: 'event_scheduler',
        HOST: 'localhost',
        DB: null,
        COMMAND: 'Daemon',
        TIME: 9,
        STATE: 'Waiting on empty queue',
        OWN_ID: 30,
      },
      {
        ID: 11,
        USER: 'system user',
        HOST: 'connecting host',
        DB: null,
        COMMAND: 'Connect',
        TIME: 9,
        STATE: 'Waiting for source to send event',
        OWN_ID: 30,
      },
      {
        ID: 12,
        USER: 'system user',
        HOST: '',
        DB: null,
        COMMAND: 'Query',
        TIME: 9,
        STATE: 'Replica has read all relay log',
        OWN_ID: 30,
      },
      {
        ID: 13,
        USER: 'repl',
        HOST: 'db3:4000',
        DB: null,
        COMMAND: 'Binlog Dump GTID',
        TIME: 9,
        STATE: 'Source has sent all binlog to replica',
        OWN_ID: 30,
      },
      {
        ID: 30,
        USER: 'successover',
        HOST: 'w:1',
        DB: null,
        COMMAND: 'Query',
        TIME: 0,
        STATE: 'executing',
        OWN_ID: 30,
      },
      { ID: 31, USER: 'app', HOST: 'a:1', DB: 'app', COMMAND: 'Sleep', TIME: 2, STATE: '', OWN_ID: 30 },
    ];
    expect(killableSessions(d.sessions().parse([rows])).map((s) => s.id)).toEqual([31]);
  });
});
