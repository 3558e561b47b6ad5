import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lexBinlog, parseBinlogText } from '../../domain/salvage';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');
const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

describe('parseBinlogText on mysqlbinlog 8.0 output (hand-written to the documented format)', () => {
  const parsed = parseBinlogText('mysql', fixture('mysql-8.0-handwritten.txt'));

  it('reads GTIDs from GTID_NEXT, over two files, with Previous-GTIDs as each file start', () => {
    expect(parsed.transactions.map((t) => t.gtid)).toEqual([
      `${UUID}:101`,
      `${UUID}:102`,
      `${UUID}:103`,
      `${UUID}:104`,
      `${UUID}:105`,
      '4a2b0c11-8d1e-11ee-8c90-0242ac120002:app_tag:8',
    ]);
    expect(parsed.fileStarts).toEqual([
      `${UUID}:1-100,4a2b0c11-8d1e-11ee-8c90-0242ac120002:1-7`,
      `${UUID}:1-104,4a2b0c11-8d1e-11ee-8c90-0242ac120002:1-7`,
    ]);
    expect(parsed.transactions.map((t) => [t.file, t.position])).toEqual([
      [0, 197],
      [0, 472],
      [0, 690],
      [0, 1055],
      [1, 237],
      [1, 512],
    ]);
    expect(parsed.problems).toEqual([]);
    expect(parsed.transactions.every((t) => t.unreplayable === null)).toBe(true);
  });

  it('keeps SET @@SESSION.GTID_NEXT and ends at the Xid, the DDL, or the atomic CREATE ... SELECT commit', () => {
    const [dml, ddl, multi, ctas] = parsed.transactions;
    expect(dml.statements).toContain(`SET @@SESSION.GTID_NEXT= '${UUID}:101'`);
    expect(dml.statements.slice(-3, -1)).toEqual(['BEGIN', expect.stringMatching(/^BINLOG '/)]);
    expect(dml.statements.at(-1)).toBe('COMMIT');
    expect(ddl.statements.at(-1)).toBe('CREATE TABLE t2 (id INT PRIMARY KEY, note VARCHAR(20))');
    expect(multi.statements.filter((s) => s.startsWith('BINLOG ')).length).toBe(3);
    expect(ctas.statements).toContain('CREATE TABLE `t3` (\n  `id` int NOT NULL\n) START TRANSACTION');
    expect(ctas.statements.at(-1)).toBe('COMMIT');
  });

  it('carries the session into the next file, and drops the trailing GTID_NEXT=AUTOMATIC', () => {
    const s = parsed.transactions[4].statements;
    expect(s[0]).toMatch(/^BINLOG '\n8YFMaQ8BAAAAegAAAH4AAAAB/);
    expect(s).toContain('use `app`');
    expect(s).toContain('SET @@session.sql_mode=1168113696');
    expect(parsed.transactions.some((t) => t.statements.some((x) => /AUTOMATIC/.test(x)))).toBe(false);
  });

  it('counts the torn last transaction as cut', () => {
    const p = parseBinlogText('mysql', fixture('mysql-8.0-handwritten-torn.txt'));
    expect(p.complete).toBe(6);
    expect(p.cutGtids).toEqual([`${UUID}:107`]);
  });

  it('an anonymous transaction has no GTID and says so', () => {
    const text = fixture('mysql-8.0-handwritten.txt').replace(`'${UUID}:101'`, "'ANONYMOUS'");
    const p = parseBinlogText('mysql', text);
    expect(p.transactions[0].gtid).toBeNull();
    expect(p.problems).toEqual([expect.stringMatching(/has no GTID \(GTID_NEXT='ANONYMOUS'\)/)]);
  });
});

describe('lexBinlog', () => {
  const head = (end: number, type: string) =>
    `#261205 22:50:53 server id 1  end_log_pos ${end} CRC32 0x9fecec3f \t${type}`;

  it('takes "# at N" below the offsets already read as text, and "# at 4" before a Start as a new file', () => {
    const text = [
      'DELIMITER /*!*/;',
      '# at 4',
      head(256, 'Start: binlog v 4'),
      '# at 300',
      head(400, 'Query\tthread_id=1'),
      "CREATE TABLE x (c TEXT DEFAULT 'a",
      '# at 12',
      "b')",
      '/*!*/;',
      '# at 4',
      head(256, 'Start: binlog v 4'),
      '# at 256',
      head(299, 'Gtid list [0-1-8]'),
    ].join('\n');
    const { events } = lexBinlog(text);
    expect(events.map((e) => [e.at, e.type])).toEqual([
      [4, 'Start: binlog v 4'],
      [300, 'Query\tthread_id=1'],
      [4, 'Start: binlog v 4'],
      [256, 'Gtid list [0-1-8]'],
    ]);
    expect(events[1].statements).toEqual(["CREATE TABLE x (c TEXT DEFAULT 'a\n# at 12\nb')"]);
  });

  it('flags a statement without its delimiter, and text before any event', () => {
    const { events, problems } = lexBinlog(
      [
        'DELIMITER /*!*/;',
        'stray',
        '# at 4',
        head(100, 'Query'),
        'SET TIMESTAMP=1/*!*/;',
        'INSERT INTO t',
      ].join('\n'),
    );
    expect(problems).toEqual(['text before any event header: stray']);
    expect(events[0]).toMatchObject({ statements: ['SET TIMESTAMP=1'], unterminated: true });
  });
});
