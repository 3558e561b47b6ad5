import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolConnection } from 'mysql2/promise';
import { applySalvage } from '../../activities/salvage';
import { parseBinlogText, selectSalvage, type BinlogTransaction } from '../../domain/salvage';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');
const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const V = '4a2b0c11-8d1e-11ee-8c90-0242ac120002';

/** A MariaDB or MySQL server as far as replaying goes: GTIDs it writes and the position it reports. */
class FakeServer {
  readonly sent: string[] = [];
  private readonly mariadb = new Map<string, string>();
  private readonly mysql: string[] = [];
  private session = { domain: 0, server: 2, seq: 0, next: '' };
  private last = '';
  fail: (sql: string) => unknown = () => undefined;
  /** After this statement the server wrote, the answer is lost. */
  lose: (sql: string) => boolean = () => false;
  lastGtid: (gtid: string) => string = (g) => g;

  constructor(
    readonly flavor: 'mariadb' | 'mysql',
    position: string,
  ) {
    for (const g of position.split(',').filter(Boolean))
      if (flavor === 'mariadb') this.mariadb.set(g.split('-')[0], g);
      else this.mysql.push(g);
  }

  get connection(): PoolConnection {
    return { query: (o: { sql: string }) => this.query(o.sql) } as unknown as PoolConnection;
  }

  private async query(sql: string): Promise<[unknown, unknown]> {
    this.sent.push(sql);
    const e = this.fail(sql);
    if (e) throw e;
    const m = /^SET @@session\.(gtid_domain_id|server_id|gtid_seq_no)=(\d+)$/.exec(sql);
    if (m)
      this.session = {
        ...this.session,
        [{ gtid_domain_id: 'domain', server_id: 'server', gtid_seq_no: 'seq' }[m[1]] as string]: Number(m[2]),
      };
    const next = /^SET @@SESSION\.GTID_NEXT= '(.+)'$/.exec(sql);
    if (next) this.session.next = next[1];
    if (/^(COMMIT|CREATE |ALTER |TRUNCATE |XA PREPARE|XA COMMIT)/.test(sql)) this.write();
    if (this.lose(sql))
      throw Object.assign(new Error('Connection lost'), { fatal: true, code: 'PROTOCOL_CONNECTION_LOST' });
    if (sql.startsWith('SELECT @@gtid_binlog_pos')) {
      const pos = [...this.mariadb.values()].join(',');
      return [
        [{ gtid_binlog_pos: pos, gtid_current_pos: '', gtid_slave_pos: '', gtid_binlog_state: pos }],
        [],
      ];
    }
    if (sql.startsWith('SELECT @@GLOBAL.gtid_executed'))
      return [[{ gtid_executed: this.mysql.join(',') }], []];
    if (sql === 'SELECT @@last_gtid AS gtid') return [[{ gtid: this.lastGtid(this.last) }], []];
    return [{ affectedRows: 0 }, []];
  }

  private write() {
    if (this.flavor === 'mysql') return void this.mysql.push(this.session.next);
    const { domain, server, seq } = this.session;
    this.last = `${domain}-${server}-${seq}`;
    this.mariadb.set(`${domain}`, this.last);
  }
}

describe('applySalvage', () => {
  const parsed = parseBinlogText('mariadb', fixture('mariadb-10.11-from-0-1-4.txt'));
  const selected = (() => {
    const s = selectSalvage(
      parsed,
      { flavor: 'mariadb', binlogPos: '0-1-4', slavePos: '' },
      { readFrom: '0-1-4' },
    );
    if (!s.ok) throw new Error(s.message);
    return s.apply;
  })();
  const apply = (
    server: FakeServer,
    transactions: readonly BinlogTransaction[] = selected,
    deadlineSeconds = 30,
  ) =>
    applySalvage(server.connection, {
      flavor: server.flavor,
      transactions,
      sessionPrelude: parsed.sessionPrelude,
      deadlineSeconds,
    });

  it('applies each transaction with its GTID, checks @@last_gtid, and verifies the position after', async () => {
    const server = new FakeServer('mariadb', '0-1-4');
    const r = await apply(server);
    expect(r).toMatchObject({
      stoppedBy: 'done',
      failure: null,
      uncertain: null,
      notApplied: [],
      verified: true,
    });
    expect(r.applied).toEqual(selected.map((t) => t.gtid));
    expect(r.summary.text).toBe('0-1-5..0-1-11, 1-1-1, 0-1-12..0-1-19 (16 transactions)');
    expect([r.positionBefore, r.positionAfter]).toEqual(['0-1-4', '0-1-19,1-1-1']);
    expect(server.sent.slice(1, 4)).toEqual(parsed.sessionPrelude);
    expect(server.sent.filter((s) => s === 'SELECT @@last_gtid AS gtid')).toHaveLength(16);
    expect(server.sent).toContain('SET @@session.server_id=@@global.server_id');
  });

  it('refuses, before sending anything, a candidate that has any of them or a transaction it cannot replay', async () => {
    const ahead = new FakeServer('mariadb', '0-1-5');
    expect(await apply(ahead)).toMatchObject({
      stoppedBy: 'refused',
      applied: [],
      failure: { code: 'already-applied', gtid: '0-1-5' },
    });
    expect(ahead.sent).toHaveLength(1); // the position probe
    const ctas = parsed.transactions.find((t) => t.gtid === '0-1-20') as BinlogTransaction;
    const r = await apply(new FakeServer('mariadb', '0-1-19,1-1-1'), [ctas]);
    expect(r).toMatchObject({ stoppedBy: 'refused', failure: { code: 'unreplayable', gtid: '0-1-20' } });
  });

  it('a statement the server refuses: the transaction is rolled back and the rest not tried', async () => {
    const server = new FakeServer('mariadb', '0-1-4');
    let binlogs = 0;
    server.fail = (sql) =>
      sql.startsWith('BINLOG') && ++binlogs === 6
        ? Object.assign(new Error("Table 'salvage.t' doesn't exist"), {
            errno: 1146,
            code: 'ER_NO_SUCH_TABLE',
          })
        : undefined;
    const r = await apply(server);
    expect(r).toMatchObject({
      stoppedBy: 'failed',
      applied: ['0-1-5'],
      failure: { gtid: '0-1-6', errno: 1146, message: "Table 'salvage.t' doesn't exist (in BINLOG)" },
      verified: true,
    });
    expect(r.notApplied[0]).toBe('0-1-6');
    expect(r.notApplied).toHaveLength(15);
    const at = server.sent.lastIndexOf('ROLLBACK');
    expect(server.sent.slice(at, at + 2)).toEqual(['ROLLBACK', 'SET @@session.gtid_seq_no=0']);
  });

  it('the answer to a COMMIT lost: that GTID is uncertain, nothing more is sent', async () => {
    const server = new FakeServer('mariadb', '0-1-4');
    let commits = 0;
    server.lose = (sql) => sql === 'COMMIT' && ++commits === 2;
    const r = await apply(server);
    expect(r).toMatchObject({
      stoppedBy: 'failed',
      applied: ['0-1-5'],
      uncertain: '0-1-6',
      positionAfter: null,
    });
    expect(r.notApplied).not.toContain('0-1-6');
    expect(server.sent.at(-1)).toBe('COMMIT');
  });

  it('stops at the deadline: a timeout is not a failure of the transaction', async () => {
    const idle = new FakeServer('mariadb', '0-1-4');
    expect(await apply(idle, selected, 0)).toMatchObject({
      stoppedBy: 'deadline',
      applied: [],
      failure: null,
    });
    const slow = new FakeServer('mariadb', '0-1-4');
    slow.fail = (sql) =>
      sql === 'SET @@session.gtid_seq_no=7'
        ? Object.assign(new Error('Query inactivity timeout'), {
            fatal: true,
            code: 'PROTOCOL_SEQUENCE_TIMEOUT',
          })
        : undefined;
    const r = await apply(slow);
    expect(r).toMatchObject({ stoppedBy: 'deadline', applied: ['0-1-5', '0-1-6'], uncertain: null });
  });

  it('stops when a transaction was written under another GTID (split on replay)', async () => {
    const server = new FakeServer('mariadb', '0-1-4');
    server.lastGtid = (g) => (g === '0-1-7' ? '0-1-8' : g);
    const r = await apply(server);
    expect(r).toMatchObject({
      stoppedBy: 'failed',
      applied: ['0-1-5', '0-1-6'],
      failure: { code: 'gtid-mismatch' },
    });
    expect(r.failure?.message).toBe('written under GTID 0-1-8, not 0-1-7: the transaction was split');
  });

  it('a session prelude the server refuses: nothing applied', async () => {
    const server = new FakeServer('mariadb', '0-1-4');
    server.fail = (sql) =>
      sql.includes('PSEUDO_SLAVE_MODE') ? Object.assign(new Error('denied'), { errno: 1227 }) : undefined;
    expect(await apply(server)).toMatchObject({
      stoppedBy: 'failed',
      applied: [],
      failure: { gtid: null, errno: 1227 },
    });
  });

  it('MySQL: GTID_NEXT per transaction, reset to AUTOMATIC at the end', async () => {
    const mysql = parseBinlogText('mysql', fixture('mysql-8.0-handwritten.txt'));
    const server = new FakeServer('mysql', `${U}:1-100,${V}:1-7`);
    const r = await applySalvage(server.connection, {
      flavor: 'mysql',
      transactions: mysql.transactions,
      sessionPrelude: mysql.sessionPrelude,
      deadlineSeconds: 30,
    });
    expect(r).toMatchObject({ stoppedBy: 'done', verified: true });
    expect(r.summary.text).toBe(`${U}:101-105, ${V}:app_tag:8 (6 transactions)`);
    expect(server.sent).not.toContain('SELECT @@last_gtid AS gtid');
    expect(server.sent).toContain("SET @@SESSION.GTID_NEXT='AUTOMATIC'");
  });
});
