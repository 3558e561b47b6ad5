import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseBinlogText,
  salvageStartPosition,
  selectSalvage,
  summarizeGtids,
  type BinlogTransaction,
  type ParsedBinlog,
} from '../../domain/salvage';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');
const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const V = '4a2b0c11-8d1e-11ee-8c90-0242ac120002';

const tx = (gtid: string | null, extra: Partial<BinlogTransaction> = {}): BinlogTransaction => ({
  gtid,
  file: 0,
  position: 4,
  complete: true,
  unreplayable: null,
  statements: ['COMMIT'],
  ...extra,
});
const read = (flavor: 'mariadb' | 'mysql', gtids: string[], fileStarts: (string | null)[] = [null]) => ({
  flavor,
  transactions: gtids.map((g) => tx(g)),
  fileStarts,
});
const maria = (binlogPos: string, slavePos = '') => ({ flavor: 'mariadb' as const, binlogPos, slavePos });
const my = (gtidExecuted: string) => ({ flavor: 'mysql' as const, gtidExecuted });
const applied = (s: ReturnType<typeof selectSalvage>) => (s.ok ? s.apply.map((t) => t.gtid) : s);

describe('selectSalvage, MariaDB', () => {
  const parsed = parseBinlogText('mariadb', fixture('mariadb-10.11-from-0-1-4.txt'));

  it('selects what a candidate at the read start lacks, up to CREATE ... SELECT, and withholds the rest', () => {
    const s = selectSalvage(parsed, maria('0-1-4'), { readFrom: '0-1-4' });
    if (!s.ok) throw new Error(s.message);
    expect(s.summary.text).toBe('0-1-5..0-1-11, 1-1-1, 0-1-12..0-1-19 (16 transactions)');
    expect(s.withheld.text).toBe('0-1-20..0-1-22 (3 transactions)');
    expect(s.withheldReason).toMatch(/^0-1-20: a DDL with row events/);
    expect(s).toMatchObject({ alreadyPresent: 0, coverageChecked: true });
  });

  it('without a read start: skips what the candidate has (binlog or replica position, the further one)', () => {
    expect(applied(selectSalvage(parsed, maria('0-1-9', '0-1-7')))).toEqual([
      '0-1-10',
      '0-1-11',
      '1-1-1',
      ...[12, 13, 14, 15, 16, 17, 18, 19].map((n) => `0-1-${n}`),
    ]);
    const s = selectSalvage(parsed, maria('0-1-5', '0-1-11,1-1-1'));
    expect(s.ok && s.alreadyPresent).toBe(8);
  });

  it('refuses when the candidate changed since the read (it has some of what was read after the start)', () => {
    const s = selectSalvage(parsed, maria('0-1-6'), { readFrom: '0-1-4' });
    expect(s).toMatchObject({ ok: false, reason: 'already-applied', gtids: ['0-1-5', '0-1-6'] });
  });

  it('refuses when the read started after what the candidate has', () => {
    const torn = parseBinlogText('mariadb', fixture('mariadb-10.11-torn.txt'));
    const s = selectSalvage(torn, maria('0-1-4'), { readFrom: '0-1-17,1-1-1' });
    expect(s).toMatchObject({ ok: false, reason: 'not-in-binlog', gtids: ['0-1-17', '1-1-1'] });
    const ok = selectSalvage(torn, maria('0-1-17,1-1-1'), { readFrom: '0-1-17,1-1-1' });
    expect(applied(ok)).toEqual(['0-1-18', '0-1-19']);
  });

  it('refuses when the first file starts after what the candidate has (older files purged or not read)', () => {
    const s = selectSalvage(read('mariadb', ['0-1-12'], ['0-2-5,0-1-11']), maria('0-1-9'));
    expect(s).toMatchObject({ ok: false, reason: 'not-in-binlog', gtids: ['0-1-11'] });
    expect(applied(selectSalvage(read('mariadb', ['0-1-12'], ['0-2-5,0-1-11']), maria('0-1-11')))).toEqual([
      '0-1-12',
    ]);
    // A domain the candidate never had, already in the file's starting state.
    expect(selectSalvage(read('mariadb', ['0-1-12'], ['0-1-11,1-1-3']), maria('0-1-11'))).toMatchObject({
      reason: 'not-in-binlog',
      gtids: ['1-1-3'],
    });
  });

  it('says when coverage could not be checked', () => {
    const s = selectSalvage(read('mariadb', ['0-1-5'], []), maria('0-1-4'));
    expect(s).toMatchObject({ ok: true, coverageChecked: false });
  });

  it('refuses a diverged candidate: the same seq_no from another server', () => {
    const s = selectSalvage(read('mariadb', ['0-1-5', '0-1-6', '0-1-7']), maria('0-2-6'));
    expect(s).toMatchObject({ ok: false, reason: 'diverged', gtids: ['0-2-6', '0-1-6'] });
  });

  it('refuses a log whose seq_no goes down in a domain, or names a GTID twice', () => {
    expect(selectSalvage(read('mariadb', ['0-1-5', '0-1-7', '0-1-6']), maria('0-1-4'))).toMatchObject({
      reason: 'out-of-order',
      gtids: ['0-1-7', '0-1-6'],
    });
    expect(selectSalvage(read('mariadb', ['0-1-5', '1-1-1', '0-1-5']), maria('0-1-4'))).toMatchObject({
      reason: 'duplicate',
    });
  });

  it('refuses text that was not valid UTF-8, and unreadable positions', () => {
    const bad = { ...read('mariadb', []), transactions: [tx('0-1-5', { statements: ["SET x='\uFFFD'"] })] };
    expect(selectSalvage(bad, maria('0-1-4'))).toMatchObject({
      reason: 'undecodable-text',
      gtids: ['0-1-5'],
    });
    expect(selectSalvage(read('mariadb', ['0-1-5']), maria('0-1-x'))).toMatchObject({
      reason: 'unreadable-position',
    });
    expect(selectSalvage(read('mariadb', ['0-1-5']), my(`${U}:1`))).toMatchObject({
      reason: 'unreadable-position',
    });
    expect(selectSalvage(read('mariadb', ['0-1-5'], ['garbage']), maria('0-1-4'))).toMatchObject({
      reason: 'unreadable-position',
    });
  });

  it('nothing to do for a caught-up candidate', () => {
    const s = selectSalvage(parsed, maria('0-1-22,1-1-1'));
    expect(s).toMatchObject({
      ok: true,
      apply: [],
      alreadyPresent: 19,
      summary: { text: 'no transactions' },
    });
  });
});

describe('selectSalvage, MySQL', () => {
  const parsed: ParsedBinlog = parseBinlogText('mysql', fixture('mysql-8.0-handwritten.txt'));

  it('selects the GTIDs not in gtid_executed', () => {
    const s = selectSalvage(parsed, my(`${U}:1-102,${V}:1-7`));
    if (!s.ok) throw new Error(s.message);
    expect(s.summary.text).toBe(`${U}:103-105, ${V}:app_tag:8 (4 transactions)`);
    expect(s).toMatchObject({ alreadyPresent: 2, coverageChecked: true, withheldReason: null });
  });

  it('with a read start (--exclude-gtids): the candidate must have it all and nothing after it', () => {
    expect(
      applied(selectSalvage(parsed, my(`${U}:1-100,${V}:1-7`), { readFrom: `${U}:1-100,${V}:1-7` })),
    ).toEqual(parsed.transactions.map((t) => t.gtid));
    expect(
      selectSalvage(parsed, my(`${U}:1-101,${V}:1-7`), { readFrom: `${U}:1-100,${V}:1-7` }),
    ).toMatchObject({
      reason: 'already-applied',
      gtids: [`${U}:101`],
    });
    expect(selectSalvage(parsed, my(`${U}:1-100`), { readFrom: `${U}:1-100,${V}:1-7` })).toMatchObject({
      reason: 'not-in-binlog',
      gtids: [`${V}:1-7`],
    });
  });

  it('refuses a candidate that has a later transaction but not an earlier one', () => {
    const s = selectSalvage(parsed, my(`${U}:1-100:102,${V}:1-7`));
    expect(s).toMatchObject({ reason: 'out-of-order', gtids: [`${U}:101`, `${U}:102`] });
  });

  it('refuses when the first file starts with transactions the candidate lacks', () => {
    expect(selectSalvage(parsed, my(`${U}:1-99,${V}:1-7`))).toMatchObject({
      reason: 'not-in-binlog',
      gtids: [`${U}:100`],
    });
  });

  it('allows one source interleaved in log order (a parallel applier upstream), refuses duplicates', () => {
    expect(applied(selectSalvage(read('mysql', [`${U}:3`, `${U}:2`]), my(`${U}:1`)))).toEqual([
      `${U}:3`,
      `${U}:2`,
    ]);
    expect(selectSalvage(read('mysql', [`${U}:2`, `${U}:2`]), my(`${U}:1`))).toMatchObject({
      reason: 'duplicate',
    });
  });

  it('refuses a transaction without a GTID', () => {
    const s = selectSalvage({ ...read('mysql', []), transactions: [tx(null)] }, my(''));
    expect(s).toMatchObject({ ok: false, reason: 'no-gtid' });
  });
});

describe('salvageStartPosition', () => {
  it('MariaDB: the further of the binlog and replica positions, per domain', () => {
    expect(salvageStartPosition(maria('0-2-7', '1-1-3,0-1-9'))).toBe('0-1-9,1-1-3');
    expect(salvageStartPosition(maria('', ''))).toBe('');
  });

  it('MySQL: gtid_executed without its newlines', () => {
    expect(salvageStartPosition(my(`${U}:1-5,\n${V}:1-3`))).toBe(`${U}:1-5,${V}:1-3`);
  });
});

describe('summarizeGtids', () => {
  it('MariaDB: runs of one domain and server with consecutive seq_no, in log order', () => {
    const gtids = [...Array.from({ length: 379 }, (_, i) => `0-1-${101 + i}`)];
    expect(summarizeGtids('mariadb', gtids).text).toBe('0-1-101..0-1-479 (379 transactions)');
    expect(summarizeGtids('mariadb', ['0-1-5', '0-1-6', '0-2-7', '1-1-1', '0-2-9']).ranges).toEqual([
      '0-1-5..0-1-6',
      '0-2-7',
      '1-1-1',
      '0-2-9',
    ]);
    expect(summarizeGtids('mariadb', ['0-1-5']).text).toBe('0-1-5 (1 transaction)');
    expect(summarizeGtids('mariadb', []).text).toBe('no transactions');
  });

  it('MySQL: one interval list per UUID', () => {
    const s = summarizeGtids('mysql', [`${U}:101`, `${U}:102`, `${V}:5`, `${U}:104`]);
    expect(s).toEqual({
      count: 4,
      ranges: [`${U}:101-102:104`, `${V}:5`],
      text: `${U}:101-102:104, ${V}:5 (4 transactions)`,
    });
  });
});
