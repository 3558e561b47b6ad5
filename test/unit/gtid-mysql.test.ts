import {
  formatMysqlGtidSet,
  GtidParseError,
  mysqlGtidCount,
  mysqlGtidEquals,
  mysqlGtidIntersect,
  mysqlGtidIsEmpty,
  mysqlGtidIsSubset,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  normalizeMysqlGtidSet,
  parseMysqlGtidSet,
} from '../../domain/gtid';

// Server UUIDs as MySQL prints them in @@server_uuid / @@gtid_executed.
const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '8a94f357-aab4-11df-86ab-c80aa9429563';
const C = 'd1f5c6a2-5b7e-11ee-9c42-0242ac120004';

const set = (text: string) => parseMysqlGtidSet(text);
const norm = normalizeMysqlGtidSet;

function parseError(text: string): GtidParseError {
  try {
    parseMysqlGtidSet(text);
  } catch (e) {
    if (e instanceof GtidParseError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parsing and formatting MySQL GTID sets', () => {
  it('reads the empty set from an empty or blank string', () => {
    expect(mysqlGtidIsEmpty(set(''))).toBe(true);
    expect(mysqlGtidIsEmpty(set(' \n\t'))).toBe(true);
    expect(formatMysqlGtidSet(set(''))).toBe('');
  });

  it('reads @@gtid_executed as the server prints it, with ",\\n" between UUIDs', () => {
    const executed = `${A}:1-5:7-9,\n${B}:1-3`;
    const s = set(executed);
    expect(s.entries).toEqual([
      {
        uuid: A,
        tag: '',
        intervals: [
          [1, 5],
          [7, 9],
        ],
      },
      { uuid: B, tag: '', intervals: [[1, 3]] },
    ]);
    expect(formatMysqlGtidSet(s)).toBe(`${A}:1-5:7-9,${B}:1-3`);
  });

  it('lower-cases UUIDs and tolerates whitespace between every token', () => {
    expect(norm(`  ${B.toUpperCase()} : 1 - 3 ,\n\n ${A.toUpperCase()}:7\r\n`)).toBe(`${A}:7,${B}:1-3`);
  });

  it('reads single transactions and prints them without a range', () => {
    expect(norm(`${A}:7`)).toBe(`${A}:7`);
    expect(norm(`${A}:7-7:9`)).toBe(`${A}:7:9`);
  });

  it('merges adjacent and overlapping intervals and repeated UUIDs, and sorts', () => {
    expect(norm(`${A}:7-9:1-5:6`)).toBe(`${A}:1-9`);
    expect(norm(`${A}:1-5:3-10:12-12:11`)).toBe(`${A}:1-12`);
    expect(norm(`${B}:4-6,${A}:1-2,${B}:1-3,${A}:10`)).toBe(`${A}:1-2:10,${B}:1-6`);
    expect(norm(`${A}:1-3:5-7`)).toBe(`${A}:1-3:5-7`);
  });

  it('reads MySQL 8.4 tags, case-insensitively, and prints them after the untagged intervals', () => {
    expect(norm(`${A}:Tag_B:1-3,${A}:1-5:tag_a:4:5-6`)).toBe(`${A}:1-5:tag_a:4-6:tag_b:1-3`);
    const s = set(`${A}:_maint:1-2:7`);
    expect(s.entries).toEqual([
      {
        uuid: A,
        tag: '_maint',
        intervals: [
          [1, 2],
          [7, 7],
        ],
      },
    ]);
    // The same number under another tag is another transaction.
    expect(mysqlGtidCount(set(`${A}:1-5:tag_a:1-5`))).toBe(10);
  });

  it.each([
    [`${A}:9-3`, 'interval 9-3 has start > end', `at "${A}:9-3"`],
    [`${A}:1-5,${B}:9-3`, 'interval 9-3 has start > end', `at "${B}:9-3"`],
    [A, 'expected ":" after the UUID, found the end', `at "${A}"`],
    [`${A}:`, 'expected a transaction number, found the end', 'offset 37'],
    [`${A}:1-5,`, 'expected a server UUID after ",", found the end', 'offset 41'],
    [`,${A}:1`, 'expected a server UUID (8-4-4-4-12 hex digits), found ","', 'offset 0'],
    [`${A}:1-5;${B}:1`, 'expected ":", "," or the end, found ";"', 'offset 40'],
    ['3e11fa47-71ca-11e1-9e33:1-5', 'expected a server UUID', 'offset 0'],
    [`${A}:0-5`, 'transaction numbers start at 1, found 0', `at "${A}:0-5"`],
    [`${A}:1-`, 'expected a transaction number, found the end', ''],
    [`${A}:tag_a`, 'expected ":" and transaction numbers after tag "tag_a", found the end', ''],
    [`${A}:tag-a:1`, 'expected ":" and transaction numbers after tag "tag", found "-"', ''],
    [`${A}:${'t'.repeat(33)}:1`, 'is longer than 32 characters', ''],
    [`${A}:1-99999999999999999999`, 'transaction number 99999999999999999999 is larger than 2^53-1', ''],
  ])('rejects %j saying what is wrong and where', (text, reason, where) => {
    const e = parseError(text);
    expect(e.message).toContain(`invalid GTID set ${JSON.stringify(text)}: `);
    expect(e.message).toContain(reason);
    expect(e.message).toContain(where);
    expect(e.input).toBe(text);
  });

  it('points at the offending entry in a long multi-line set', () => {
    const text = `${A}:1-100,\n${B}:1-5:9-3,\n${C}:1-2`;
    const e = parseError(text);
    expect(e.message).toContain(`at "${B}:1-5:9-3"`);
    expect(e.offset).toBe(text.indexOf('9-3'));
    expect(e.message).toContain('\\n'); // the input is shown escaped, on one line
  });

  it('keeps error messages short for huge inputs', () => {
    const huge = Array.from({ length: 200 }, (_, i) => `${A}:${i * 2 + 1}`).join(',') + ',oops';
    const e = parseError(huge);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toContain('at "oops"');
  });
});

describe('MySQL GTID set algebra', () => {
  const primary = set(`${A}:1-100,${B}:1-20`);

  it('unions across UUIDs and tags', () => {
    expect(formatMysqlGtidSet(mysqlGtidUnion(set(`${A}:1-5`), set(`${A}:6-8:10,${B}:1`)))).toBe(
      `${A}:1-8:10,${B}:1`,
    );
    expect(formatMysqlGtidSet(mysqlGtidUnion(set(`${A}:1`), set(`${A}:t:1`)))).toBe(`${A}:1:t:1`);
  });

  it('subtracts like GTID_SUBTRACT, dropping UUIDs left empty', () => {
    const replica = set(`${A}:1-100,${B}:1-20,${C}:1-3`);
    expect(formatMysqlGtidSet(mysqlGtidSubtract(replica, primary))).toBe(`${C}:1-3`);
    expect(formatMysqlGtidSet(mysqlGtidSubtract(set(`${A}:1-10`), set(`${A}:3-4:6:9-20`)))).toBe(
      `${A}:1-2:5:7-8`,
    );
    expect(formatMysqlGtidSet(mysqlGtidSubtract(set(`${A}:1-10`), set(`${A}:1-10`)))).toBe('');
    expect(formatMysqlGtidSet(mysqlGtidSubtract(set(`${A}:5-6`), set(`${A}:1-2:4-5:7-9`)))).toBe(`${A}:6`);
  });

  it('intersects', () => {
    expect(formatMysqlGtidSet(mysqlGtidIntersect(set(`${A}:1-10:20-30,${B}:1-5`), set(`${A}:5-25`)))).toBe(
      `${A}:5-10:20-25`,
    );
  });

  it('tests subsets like GTID_SUBSET', () => {
    expect(mysqlGtidIsSubset(set(`${A}:1-50`), primary)).toBe(true);
    expect(mysqlGtidIsSubset(set(''), primary)).toBe(true);
    expect(mysqlGtidIsSubset(set(`${A}:1-101`), primary)).toBe(false);
    expect(mysqlGtidIsSubset(set(`${C}:1`), primary)).toBe(false);
    expect(mysqlGtidIsSubset(set(`${A}:1-3:5`), set(`${A}:1-3:6`))).toBe(false);
    expect(mysqlGtidIsSubset(set(`${A}:tag_a:1`), set(`${A}:1-100`))).toBe(false);
  });

  it('compares sets by content, not by spelling', () => {
    expect(mysqlGtidEquals(set(`${B}:1-3,${A.toUpperCase()}:2:1`), set(`${A}:1-2,\n${B}:1-2:3`))).toBe(true);
    expect(mysqlGtidEquals(set(`${A}:1-3`), set(`${A}:1-4`))).toBe(false);
  });

  it('counts transactions', () => {
    expect(mysqlGtidCount(set(''))).toBe(0);
    expect(mysqlGtidCount(set(`${A}:1-5:7-9,${B}:1-3`))).toBe(11);
    expect(mysqlGtidCount(set(`${A}:1-5:3-7`))).toBe(7);
  });
});
