// The dump scanner (rows and GTID position read from a stream in arbitrary chunks) and the GTID
// arithmetic provisioning reports with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DumpScanner } from '../../activities/provision/dumpScanner';
import { dialectFor } from '../../domain/dialects';
import { gtidCommonPosition, gtidDistance } from '../../domain/gtid/distance';

const mariadb = dialectFor('mariadb').backup;
const mysql = dialectFor('mysql').backup;
const UUID_A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const UUID_B = '8a94f357-aab4-11df-86ab-c80aa9429563';

function scan(syntax: typeof mariadb, text: string | Buffer, chunk: number) {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  const s = new DumpScanner(syntax);
  for (let i = 0; i < buf.length; i += chunk) s.push(buf.subarray(i, i + chunk));
  s.end();
  return { rows: s.rows, position: s.position, bytes: s.bytes };
}

describe('DumpScanner', () => {
  // A real mariadb-dump 10.11 of two rows (one per line), position deferred to the end.
  const fixture = readFileSync(join(__dirname, '..', 'fixtures', 'provision', 'mariadb-10.11-dump.sql'));

  it.each([1, 2, 5, 13, 64, 4096, 1 << 20])('reads a real mariadb-dump in chunks of %i bytes', (chunk) => {
    expect(scan(mariadb, fixture, chunk)).toEqual({ rows: 2, position: '0-7-3', bytes: fixture.length });
  });

  const tricky = [
    '-- MariaDB dump',
    "INSERT INTO `t(1);` VALUES (1,'a(b),(c',0x00),(2,'it''s','x\\'),(y'),(3,NULL,'semi;colon');",
    'INSERT INTO `u` VALUES',
    "(1,'line\\nbreak'),",
    '(2,\'"("\');',
    '/*!40000 ALTER TABLE `u` ENABLE KEYS */;',
    '-- INSERT INTO `fake` VALUES (9);',
    'CREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END;;',
    "-- SET GLOBAL gtid_slave_pos='0-1-77,1-2-3';",
    'INSERT INTO `v` VALUES (1)',
  ].join('\n');

  it.each([1, 3, 7, 1000])(
    'counts tuples, not parentheses, semicolons or newlines in strings (chunks of %i)',
    (chunk) => {
      // 3 + 2 + 1 (a last statement without newline or semicolon); comments and routine bodies do not count.
      expect(scan(mariadb, tricky, chunk)).toEqual({
        rows: 6,
        position: '0-1-77,1-2-3',
        bytes: tricky.length,
      });
    },
  );

  it('takes the first position and ignores a later one', () => {
    const two = "-- SET GLOBAL gtid_slave_pos='0-1-5';\n-- SET GLOBAL gtid_slave_pos='0-1-9';\n";
    expect(scan(mariadb, two, 4).position).toBe('0-1-5');
  });

  it('reads a mysqldump GTID_PURGED set wrapped over lines, rows all on one line', () => {
    const dump = [
      'SET @@SESSION.SQL_LOG_BIN= 0;',
      `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '${UUID_A}:1-100,`,
      `${UUID_B}:1-3';`,
      "INSERT INTO `t` VALUES (1,'a'),(2,'b'),(3,'c');",
      '',
    ].join('\n');
    for (const chunk of [1, 9, 1000])
      expect(scan(mysql, dump, chunk)).toEqual({
        rows: 3,
        position: `${UUID_A}:1-100,${UUID_B}:1-3`,
        bytes: dump.length,
      });
  });

  it('reports no position when the dump carries none', () => {
    expect(scan(mariadb, 'INSERT INTO `t` VALUES (1);\n', 5)).toEqual({ rows: 1, position: null, bytes: 28 });
  });
});

describe('gtidDistance', () => {
  it('MariaDB: per domain, what the target lacks, summed; never negative', () => {
    expect(gtidDistance('mariadb', '0-1-90', '0-1-100')).toBe(10);
    expect(gtidDistance('mariadb', '0-1-90,1-2-5', '0-3-100,1-2-9')).toBe(14);
    expect(gtidDistance('mariadb', '', '0-1-100,1-2-9')).toBe(109);
    expect(gtidDistance('mariadb', '0-1-120', '0-1-100')).toBe(0);
    expect(gtidDistance('mariadb', '0-1-100', '0-1-100')).toBe(0);
  });

  it('MySQL: the GTIDs of the primary the target has not executed', () => {
    expect(gtidDistance('mysql', `${UUID_A}:1-90`, `${UUID_A}:1-100,${UUID_B}:1-3`)).toBe(13);
    expect(gtidDistance('mysql', `${UUID_A}:1-100:105`, `${UUID_A}:1-110`)).toBe(9);
    expect(gtidDistance('mysql', `${UUID_A}:1-100`, `${UUID_A}:1-100`)).toBe(0);
  });
});

describe('gtidCommonPosition', () => {
  it('MariaDB: per domain the further entry; refuses split histories', () => {
    expect(gtidCommonPosition('mariadb', '0-1-90', '0-1-100')).toBe('0-1-100');
    expect(gtidCommonPosition('mariadb', '0-1-100,1-2-9', '0-1-90,1-2-12')).toBe('0-1-100,1-2-12');
    expect(gtidCommonPosition('mariadb', '0-1-100', '0-1-100,2-5-1')).toBe('0-1-100,2-5-1');
    expect(() => gtidCommonPosition('mariadb', '0-1-100', '0-2-100')).toThrow(/diverged in domain 0/);
  });

  it('MySQL: the union of both sets', () => {
    expect(gtidCommonPosition('mysql', `${UUID_A}:1-90`, `${UUID_A}:1-100,${UUID_B}:1-3`)).toBe(
      `${UUID_A}:1-100,${UUID_B}:1-3`,
    );
  });
});
