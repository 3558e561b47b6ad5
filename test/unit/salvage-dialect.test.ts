import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellCommand } from '../../activities/shellQuote';
import {
  basenameOfIndex,
  chooseBinlogIndex,
  parseBinlogIndex,
  salvageDialectFor,
} from '../../domain/dialects/salvageFor';

const stderr = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');
const mariadb = salvageDialectFor('mariadb');
const mysql = salvageDialectFor('mysql');
const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

describe('salvage commands, MariaDB (the argv checked live on 10.11)', () => {
  it('prints the transactions after a GTID position from the files given, in order', () => {
    expect(
      mariadb.printTransactions(
        ['/var/lib/mysql/db1-bin.000007', '/var/lib/mysql/db1-bin.000008'],
        '1-1-3, 0-1-100',
      ),
    ).toEqual([
      'mariadb-binlog',
      '--no-defaults',
      '--skip-gtid-strict-mode',
      '--base64-output=auto',
      '--start-position=0-1-100,1-1-3',
      '--',
      '/var/lib/mysql/db1-bin.000007',
      '/var/lib/mysql/db1-bin.000008',
    ]);
  });

  it('reads from the start of the files when the candidate has nothing', () => {
    expect(mariadb.printTransactions(['/d/bin.000001'], '')).not.toContain(
      expect.stringMatching(/start-position/),
    );
  });

  it('refuses what could become shell or option syntax', () => {
    expect(() => mariadb.printTransactions([], '0-1-1')).toThrow(/no binary log file/);
    expect(() => mariadb.printTransactions(['bin.000001'], '0-1-1')).toThrow(/absolute path/);
    expect(() => mariadb.printTransactions(['/d/../etc/passwd'], '0-1-1')).toThrow(/absolute path/);
    expect(() => mariadb.printTransactions(['/d/bin.000001'], "0-1-1'; rm -rf /")).toThrow(/MariaDB GTID/);
    expect(() => mariadb.listFiles('relative/bin')).toThrow(/absolute path/);
  });

  it('quotes every word for the shell', () => {
    const argv = mariadb.printTransactions(["/data/my sql/it's-bin.000001"], '0-1-5');
    expect(shellCommand(argv)).toBe(
      "mariadb-binlog --no-defaults --skip-gtid-strict-mode --base64-output=auto --start-position=0-1-5 -- '/data/my sql/it'\\''s-bin.000001'",
    );
    expect(shellCommand(mariadb.listFiles('/var/lib/mysql/my bin'))).toBe(
      "cat -- '/var/lib/mysql/my bin.index'",
    );
    expect(shellCommand(mariadb.findIndexes('/var/lib/mysql'))).toBe(
      "find /var/lib/mysql -maxdepth 1 -type f -name '*.index'",
    );
  });

  it('reads the tool messages seen live', () => {
    expect(mariadb.readOutcome(0, '')).toEqual({ kind: 'complete', torn: false, messages: [] });
    expect(mariadb.readOutcome(0, stderr('mariadb-10.11-torn.stderr.txt'))).toMatchObject({
      kind: 'complete',
      torn: true,
    });
    expect(mariadb.readOutcome(0, stderr('mariadb-10.11-torn-header.stderr.txt'))).toMatchObject({
      kind: 'complete',
      torn: true,
    });
    expect(mariadb.readOutcome(0, stderr('mariadb-10.11-caught-up.stderr.txt'))).toEqual({
      kind: 'complete',
      torn: false,
      messages: [
        'WARNING: Binary logs never reached expected GTID state of 1-1-1',
        'WARNING: Binary logs never reached expected GTID state of 0-1-22',
      ],
    });
    expect(mariadb.readOutcome(1, stderr('mariadb-10.11-missing-history.stderr.txt')).kind).toBe(
      'missing-history',
    );
    expect(mariadb.readOutcome(1, stderr('mariadb-10.11-no-initial-domain.stderr.txt')).kind).toBe(
      'missing-history',
    );
    expect(mariadb.readOutcome(1, stderr('mariadb-10.11-torn-middle.stderr.txt'))).toMatchObject({
      kind: 'partial',
      torn: true,
    });
    expect(mariadb.readOutcome(1, stderr('mariadb-10.11-not-a-binlog.stderr.txt')).kind).toBe('failed');
    expect(mariadb.readOutcome(127, 'sh: 1: mariadb-binlog: not found').kind).toBe('failed');
  });

  it('session statements: one variable each, MariaDB last GTID', () => {
    expect(mariadb.resetSession()).toContain('SET @@session.server_id=@@global.server_id');
    expect(mariadb.resetSession().every((s) => !s.includes(','))).toBe(true);
    expect(mariadb.abandonTransaction()).toEqual(['ROLLBACK', 'SET @@session.gtid_seq_no=0']);
    expect(mariadb.lastWrittenGtid()).toBe('SELECT @@last_gtid AS gtid');
  });
});

describe('salvage commands, MySQL 8 (not installable here: the argv is pinned)', () => {
  it('prints the local files leaving out the candidate gtid_executed, never from a server', () => {
    const argv = mysql.printTransactions(
      ['/var/lib/mysql/binlog.000012'],
      `${U}:1-100,\n${U.replace('3e', '4f')}:1-3`,
    );
    expect(argv).toEqual([
      'mysqlbinlog',
      '--no-defaults',
      '--base64-output=AUTO',
      `--exclude-gtids=${U}:1-100,${U.replace('3e', '4f')}:1-3`,
      '--',
      '/var/lib/mysql/binlog.000012',
    ]);
    expect(argv.join(' ')).not.toMatch(/read-from-remote-server|skip-gtids|--host/);
    expect(shellCommand(argv)).toBe(
      `mysqlbinlog --no-defaults --base64-output=AUTO --exclude-gtids=${U}:1-100,${U.replace('3e', '4f')}:1-3 -- /var/lib/mysql/binlog.000012`,
    );
    expect(mysql.printTransactions(['/d/binlog.000001'], '')).toEqual([
      'mysqlbinlog',
      '--no-defaults',
      '--base64-output=AUTO',
      '--',
      '/d/binlog.000001',
    ]);
    expect(() => mysql.printTransactions(['/d/binlog.000001'], 'not-a-set')).toThrow(/GTID set/);
  });

  it('reads exit status and messages', () => {
    expect(mysql.readOutcome(0, '').kind).toBe('complete');
    expect(
      mysql.readOutcome(
        1,
        'ERROR: Could not read entry at offset 1234: Error in log format or read error 1.',
      ),
    ).toMatchObject({ kind: 'partial', torn: true });
    expect(mysql.readOutcome(1, "mysqlbinlog: File '/d/binlog.000009' not found (OS errno 2)").kind).toBe(
      'failed',
    );
  });

  it('resets GTID_NEXT after a failed transaction and at the end; no last-GTID query', () => {
    expect(mysql.abandonTransaction()).toEqual(['ROLLBACK', "SET @@SESSION.GTID_NEXT='AUTOMATIC'"]);
    expect(mysql.resetSession()[0]).toBe("SET @@SESSION.GTID_NEXT='AUTOMATIC'");
    expect(mysql.lastWrittenGtid()).toBeNull();
    expect(mysql.listFiles('/var/lib/mysql/binlog')).toEqual(['cat', '--', '/var/lib/mysql/binlog.index']);
  });
});

describe('binary log index', () => {
  it('names files relative to the datadir, or absolute when log_bin was', () => {
    expect(parseBinlogIndex('./mysql-bin.000001\n./mysql-bin.000002\n', '/var/lib/mysql/')).toEqual([
      '/var/lib/mysql/mysql-bin.000001',
      '/var/lib/mysql/mysql-bin.000002',
    ]);
    expect(parseBinlogIndex('/srv/binlog/bin.000003\n\n/srv/binlog/bin.000004\n', '/var/lib/mysql')).toEqual([
      '/srv/binlog/bin.000003',
      '/srv/binlog/bin.000004',
    ]);
    expect(parseBinlogIndex('', '/var/lib/mysql')).toEqual([]);
    expect(() => parseBinlogIndex('../../etc/shadow\n', '/var/lib/mysql')).toThrow(/absolute path/);
  });

  it('chooses the one binary log index of a datadir, never a relay log index', () => {
    expect(chooseBinlogIndex('/var/lib/mysql/db1-relay-bin.index\n/var/lib/mysql/mysql-bin.index\n')).toBe(
      '/var/lib/mysql/mysql-bin.index',
    );
    expect(chooseBinlogIndex('/var/lib/mysql/a-bin.index\n/var/lib/mysql/b-bin.index\n')).toBeNull();
    expect(chooseBinlogIndex('')).toBeNull();
    expect(basenameOfIndex('/var/lib/mysql/mysql-bin.index')).toBe('/var/lib/mysql/mysql-bin');
  });
});
