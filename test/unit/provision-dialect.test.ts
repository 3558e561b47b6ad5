// What each flavor runs to copy a backup and position a new replica: command lines (argv, quoted
// by the activity), statements, and the parsers of what the tools print.
import { dialectFor } from '../../domain/dialects';
import {
  checkPath,
  clientArgs,
  clientOptionFile,
  parseBinlogInfoText,
  parseDfAvailable,
} from '../../domain/dialects/backup';

const UUID_A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const UUID_B = '8a94f357-aab4-11df-86ab-c80aa9429563';
const endpoint = { optionFile: '/var/lib/mysql.successover/donor.cnf', host: '10.0.0.12', port: 3306 };
const sqls = (s: { sql: string }[]) => s.map((x) => x.sql);

describe('option file and client arguments', () => {
  it('quotes the account so "#", quotes, backslashes and newlines survive the option file parser', () => {
    expect(clientOptionFile({ user: 'successover', password: `p#w\\x"q'z\nend` })).toBe(
      '[client]\nuser="successover"\npassword="p#w\\\\x\\"q\'z\\nend"\n',
    );
    expect(() => clientOptionFile({ user: 'u', password: 'a\0b' })).toThrow(/NUL/);
  });

  it('puts the option file first (the tools require it) and never a password', () => {
    const args = clientArgs(endpoint);
    expect(args).toEqual([
      '--defaults-extra-file=/var/lib/mysql.successover/donor.cnf',
      '--host=10.0.0.12',
      '--port=3306',
    ]);
    expect(args.join(' ')).not.toMatch(/password|--user/);
  });

  it('refuses paths and addresses that could be read as something else', () => {
    expect(() => checkPath('relative/dir', 'datadir')).toThrow(/absolute path/);
    expect(() => checkPath('/', 'datadir')).toThrow(/absolute path/);
    expect(() => checkPath('/var/lib/../../etc', 'datadir')).toThrow(/absolute path/);
    expect(() => checkPath('/var/lib/my\nsql', 'datadir')).toThrow(/absolute path/);
    expect(checkPath('/var/lib/mysql/', 'datadir')).toBe('/var/lib/mysql');
    expect(() => clientArgs({ ...endpoint, host: '-oProxyCommand=x' })).toThrow(/host name or IP/);
    expect(() => clientArgs({ ...endpoint, port: 0 })).toThrow(/port/);
  });
});

describe('MariaDB', () => {
  const b = dialectFor('mariadb').backup;

  it('dumps every user schema in one snapshot with the GTID position, read from the dump itself', () => {
    expect(b.logicalDump(endpoint, ['app'])).toEqual([
      'mariadb-dump',
      '--defaults-extra-file=/var/lib/mysql.successover/donor.cnf',
      '--host=10.0.0.12',
      '--port=3306',
      '--single-transaction',
      '--master-data=2',
      '--gtid',
      '--routines',
      '--events',
      '--triggers',
      '--hex-blob',
      '--max-allowed-packet=1G',
      '--all-databases',
      '--ignore-database=mysql',
      '--ignore-database=information_schema',
      '--ignore-database=performance_schema',
      '--ignore-database=sys',
    ]);
    expect(b.restoreClient({ ...endpoint, optionFile: '/d.successover/target.cnf' })).toEqual([
      'mariadb',
      '--defaults-extra-file=/d.successover/target.cnf',
      '--host=10.0.0.12',
      '--port=3306',
      '--binary-mode',
      '--max-allowed-packet=1G',
    ]);
    // The restore writes no binlog: the new replica gets no GTIDs of its own.
    expect(b.restorePrelude()).toBe('SET SESSION sql_log_bin=0;\n');
  });

  it('reads the deferred GTID line mariadb-dump writes at the end', () => {
    expect(b.dumpPosition("-- SET GLOBAL gtid_slave_pos='0-1-42';")).toBe('0-1-42');
    expect(b.dumpPosition("SET GLOBAL gtid_slave_pos='0-1-42,1-2-7';")).toBe('0-1-42,1-2-7');
    expect(b.dumpPosition("-- SET GLOBAL gtid_slave_pos='';")).toBe('');
    expect(b.dumpPosition('-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;')).toBeNull();
    expect(b.dumpPositionMarker).toBe('SET GLOBAL gtid_slave_pos=');
  });

  it('resets the target and sets the replica position with escaped values', () => {
    expect(sqls(b.resetForRestore('10.11.19-MariaDB', true))).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'RESET MASTER',
      "SET GLOBAL gtid_slave_pos=''",
    ]);
    expect(sqls(b.resetForRestore('10.11.19-MariaDB', false))).toEqual([
      'RESET MASTER',
      "SET GLOBAL gtid_slave_pos=''",
    ]);
    expect(sqls(b.setReplicaPosition('0-1-42', '10.11.19'))).toEqual(["SET GLOBAL gtid_slave_pos='0-1-42'"]);
    expect(sqls(b.setReplicaPosition("0-1-1';DROP", '10.11.19'))).toEqual([
      "SET GLOBAL gtid_slave_pos='0-1-1'';DROP'",
    ]);
    expect(b.restoreWritable()).toEqual([]);
    expect(sqls(b.stopApplying())).toEqual(['STOP SLAVE']);
    expect(sqls(b.startUntil('0-1-99'))).toEqual(["START SLAVE UNTIL master_gtid_pos='0-1-99'"]);
  });

  it('streams mariadb-backup into mbstream and prepares in place', () => {
    expect(b.physicalBackup(endpoint, '/var/lib/mysql/')).toEqual([
      'mariadb-backup',
      '--defaults-extra-file=/var/lib/mysql.successover/donor.cnf',
      '--host=10.0.0.12',
      '--port=3306',
      '--backup',
      '--stream=xbstream',
      '--datadir=/var/lib/mysql',
    ]);
    expect(b.physicalExtract('/srv/db')).toEqual(['mbstream', '-x', '-C', '/srv/db']);
    expect(b.physicalPrepare('/srv/db')).toEqual(['mariadb-backup', '--prepare', '--target-dir=/srv/db']);
    expect(b.binlogInfoFiles).toEqual(['mariadb_backup_binlog_info', 'xtrabackup_binlog_info']);
    expect(b.donorStateFiles).toEqual(['master.info', 'relay-log.info', 'multi-master.info']);
    expect(b.physicalTools).toEqual({ donor: 'mariadb-backup', target: ['mbstream', 'mariadb-backup'] });
  });

  it('recreates a missing account from SHOW CREATE USER and SHOW GRANTS, hash redacted', () => {
    const copy = b.accounts;
    if (!copy) throw new Error('MariaDB copies accounts');
    expect(sqls(copy.list().statements)).toEqual([
      'SELECT User AS user, Host AS host, is_role AS is_role FROM mysql.user ORDER BY User, Host',
    ]);
    expect(
      copy.list().parse([
        [
          { user: 'app', host: '%', is_role: 'N' },
          { user: 'r1', host: '', is_role: 'Y' },
        ],
      ]),
    ).toEqual([
      { user: 'app', host: '%', role: false },
      { user: 'r1', host: '', role: true },
    ]);
    const user = copy.definition({ user: "o'k", host: '%', role: false });
    expect(sqls(user.statements)).toEqual(["SHOW CREATE USER 'o''k'@'%'", "SHOW GRANTS FOR 'o''k'@'%'"]);
    const statements = user.parse([
      [
        {
          "CREATE USER for o'k@%":
            "CREATE USER `o'k`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209'",
        },
      ],
      [
        {
          "Grants for o'k@%":
            "GRANT USAGE ON *.* TO `o'k`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209'",
        },
        { "Grants for o'k@%": "GRANT SELECT ON `app`.* TO `o'k`@`%`" },
      ],
    ]);
    expect(sqls(statements)).toEqual([
      "CREATE USER IF NOT EXISTS `o'k`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209'",
      "GRANT USAGE ON *.* TO `o'k`@`%` IDENTIFIED BY PASSWORD '*7B9EBEED26AA52ED10C0F549FA863F13C39E0209'",
      "GRANT SELECT ON `app`.* TO `o'k`@`%`",
    ]);
    expect(statements.map((s) => s.redacted).join('\n')).not.toContain('7B9EBEED');
    expect(statements[0].redacted).toBe("CREATE USER IF NOT EXISTS `o'k`@`%` IDENTIFIED BY PASSWORD '***'");
    const role = copy.definition({ user: 'reader', host: '', role: true });
    expect(sqls(role.statements)).toEqual(["SHOW GRANTS FOR 'reader'"]);
    expect(sqls(role.parse([[{ 'Grants for reader': 'GRANT SELECT ON `app`.* TO `reader`' }]]))).toEqual([
      "CREATE ROLE IF NOT EXISTS 'reader'",
      'GRANT SELECT ON `app`.* TO `reader`',
    ]);
  });

  it('checksums a table and counts its rows with quoted identifiers', () => {
    const p = b.checksumTable('app', 'we`ird');
    expect(sqls(p.statements)).toEqual([
      'CHECKSUM TABLE `app`.`we``ird`',
      'SELECT COUNT(*) AS n FROM `app`.`we``ird`',
    ]);
    expect(p.parse([[{ Table: 'app.we`ird', Checksum: 3008629337 }], [{ n: 16384 }]])).toEqual({
      checksum: '3008629337',
      rows: 16384,
    });
    expect(p.parse([[{ Table: 'app.x', Checksum: null }], [{ n: 0 }]])).toEqual({ checksum: null, rows: 0 });
    expect(sqls([b.dropSchema('a`b')])).toEqual(['DROP DATABASE IF EXISTS `a``b`']);
  });
});

describe('MySQL', () => {
  const b = dialectFor('mysql').backup;

  it('dumps with mysqldump --source-data --set-gtid-purged and restores with mysql', () => {
    expect(b.logicalDump(endpoint, ['app', 'shop'])).toEqual([
      'mysqldump',
      '--defaults-extra-file=/var/lib/mysql.successover/donor.cnf',
      '--host=10.0.0.12',
      '--port=3306',
      '--single-transaction',
      '--source-data=2',
      '--set-gtid-purged=ON',
      '--routines',
      '--events',
      '--triggers',
      '--hex-blob',
      '--max-allowed-packet=1G',
      '--databases',
      'app',
      'shop',
    ]);
    expect(() => b.logicalDump(endpoint, ['--all-databases'])).toThrow(/starting with "-"/);
    expect(b.restoreClient(endpoint)[0]).toBe('mysql');
    expect(b.restoreClient(endpoint)[1]).toBe('--defaults-extra-file=/var/lib/mysql.successover/donor.cnf');
    expect(b.accounts).toBeNull();
  });

  it('reads GTID_PURGED from the dump, a long set wrapped over lines', () => {
    expect(b.dumpPosition(`SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '${UUID_A}:1-5';`)).toBe(`${UUID_A}:1-5`);
    expect(b.dumpPosition(`SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '${UUID_A}:1-5,\n${UUID_B}:1-3';`)).toBe(
      `${UUID_A}:1-5,${UUID_B}:1-3`,
    );
    expect(b.dumpPosition(`SET @@GLOBAL.GTID_PURGED='${UUID_A}:1-9';`)).toBe(`${UUID_A}:1-9`);
    expect(b.dumpPosition('SET @@SESSION.SQL_LOG_BIN= 0;')).toBeNull();
  });

  it('clears gtid_executed with the statement the version has, then sets gtid_purged', () => {
    expect(sqls(b.resetForRestore('8.0.36', true))).toEqual([
      'STOP REPLICA',
      'RESET REPLICA ALL',
      'RESET MASTER',
    ]);
    expect(sqls(b.resetForRestore('8.4.3', false))).toEqual(['RESET BINARY LOGS AND GTIDS']);
    expect(sqls(b.setReplicaPosition(`${UUID_A}:1-5`, '8.0.36'))).toEqual([
      'RESET MASTER',
      `SET GLOBAL gtid_purged='${UUID_A}:1-5'`,
    ]);
    expect(sqls(b.setReplicaPosition(`${UUID_A}:1-5`, '8.4.3'))).toEqual([
      'RESET BINARY LOGS AND GTIDS',
      `SET GLOBAL gtid_purged='${UUID_A}:1-5'`,
    ]);
    // super_read_only stops even the restoring account; read_only still stops applications.
    expect(sqls(b.restoreWritable())).toEqual(['SET GLOBAL super_read_only=OFF']);
    expect(sqls(b.restoreDone())).toEqual(['SET GLOBAL super_read_only=ON']);
    expect(sqls(b.stopApplying())).toEqual(['STOP REPLICA SQL_THREAD']);
    expect(sqls(b.startUntil(`${UUID_A}:1-9`))).toEqual([
      `START REPLICA SQL_THREAD UNTIL SQL_AFTER_GTIDS='${UUID_A}:1-9'`,
    ]);
  });

  it('streams xtrabackup into xbstream and drops the donor server_uuid before the first start', () => {
    expect(b.physicalBackup(endpoint, '/var/lib/mysql')).toEqual([
      'xtrabackup',
      '--defaults-extra-file=/var/lib/mysql.successover/donor.cnf',
      '--host=10.0.0.12',
      '--port=3306',
      '--backup',
      '--stream=xbstream',
      '--datadir=/var/lib/mysql',
    ]);
    expect(b.physicalExtract('/var/lib/mysql')).toEqual(['xbstream', '-x', '-C', '/var/lib/mysql']);
    expect(b.physicalPrepare('/var/lib/mysql')).toEqual([
      'xtrabackup',
      '--prepare',
      '--target-dir=/var/lib/mysql',
    ]);
    expect(b.binlogInfoFiles).toEqual(['xtrabackup_binlog_info']);
    expect(b.donorStateFiles).toEqual(['auto.cnf']);
  });
});

describe('sizes', () => {
  it('take the larger of the table statistics and the tablespace files (statistics lag a bulk load)', () => {
    for (const [flavor, table] of [
      ['mariadb', 'information_schema.INNODB_SYS_TABLESPACES'],
      ['mysql', 'information_schema.INNODB_TABLESPACES'],
    ] as const) {
      const b = dialectFor(flavor).backup;
      const schemas = b.userSchemas();
      expect(schemas.statements[0].sql).toContain(
        "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
      );
      expect(schemas.statements[1].sql).toContain(`FROM ${table} `);
      expect(
        schemas.parse([
          [
            { name: 'app', bytes: 16384, tables: 2, row_estimate: '10' },
            { name: 'shop', bytes: 5_000_000, tables: 1, row_estimate: 7 },
            { name: 'empty', bytes: '0', tables: 0, row_estimate: '0' },
          ],
          [
            { name: 'app', bytes: '27262976' },
            { name: 'shop', bytes: 98304 },
          ],
        ]),
      ).toEqual([
        { name: 'app', bytes: 27262976, tables: 2, rowsEstimate: 10 },
        { name: 'shop', bytes: 5_000_000, tables: 1, rowsEstimate: 7 },
        { name: 'empty', bytes: 0, tables: 0, rowsEstimate: 0 },
      ]);
      const total = b.totalDataBytes();
      expect(total.statements[1].sql).toBe(
        `SELECT COALESCE(SUM(FILE_SIZE), 0) AS bytes FROM ${table} WHERE NAME <> 'innodb_temporary'`,
      );
      expect(total.parse([[{ bytes: '3899392' }], [{ bytes: 40_000_000 }]])).toBe(40_000_000);
      expect(total.parse([[{ bytes: 9_000_000 }], [{ bytes: 0 }]])).toBe(9_000_000);
    }
  });
});

describe('parsers', () => {
  it('reads the backup position files of both tools', () => {
    expect(parseBinlogInfoText('mariadb-bin.000001\t1094\t0-7-5\n')).toEqual({
      file: 'mariadb-bin.000001',
      position: 1094,
      gtid: '0-7-5',
    });
    expect(parseBinlogInfoText(`binlog.000003\t157\t${UUID_A}:1-100,\n${UUID_B}:1-3\n`)).toEqual({
      file: 'binlog.000003',
      position: 157,
      gtid: `${UUID_A}:1-100,${UUID_B}:1-3`,
    });
    expect(parseBinlogInfoText('binlog.000003\t157\n')).toEqual({
      file: 'binlog.000003',
      position: 157,
      gtid: '',
    });
    expect(() => parseBinlogInfoText('')).toThrow(/FILE POSITION GTID/);
    expect(() => parseBinlogInfoText('mariadb-bin.000001 notanumber')).toThrow(/FILE POSITION GTID/);
  });

  it('reads the available bytes from df -Pk, spaces in names included', () => {
    const df =
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n' +
      '/dev/vda         264212084 17509508  77991756      19% /\n';
    expect(parseDfAvailable(df)).toBe(77991756 * 1024);
    const spaced =
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n' +
      'my disk 1000 400 600 40% /mnt/data dir\n';
    expect(parseDfAvailable(spaced)).toBe(600 * 1024);
    expect(() => parseDfAvailable('df: /nope: No such file or directory\n')).toThrow(/unexpected df output/);
  });
});
