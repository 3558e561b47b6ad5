import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBinlogText } from '../../domain/salvage';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');

describe('parseBinlogText on mariadb-binlog 10.11 output', () => {
  const parsed = parseBinlogText('mariadb', fixture('mariadb-10.11-from-0-1-4.txt'));
  const tx = (gtid: string) => {
    const t = parsed.transactions.find((x) => x.gtid === gtid);
    if (!t) throw new Error(`no ${gtid}`);
    return t;
  };

  it('reads every transaction after the start position, in log order, over three files', () => {
    expect(parsed.transactions.map((t) => t.gtid)).toEqual([
      ...[5, 6, 7, 8, 9, 10, 11].map((n) => `0-1-${n}`),
      '1-1-1',
      ...[12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22].map((n) => `0-1-${n}`),
    ]);
    expect(parsed.complete).toBe(19);
    expect(parsed.cut).toBe(0);
    expect(parsed.problems).toEqual([]);
    expect(parsed.transactions.every((t) => t.complete)).toBe(true);
    expect(parsed.fileStarts).toEqual(['', '0-1-8', '0-1-11']);
    expect([tx('0-1-8').file, tx('0-1-9').file, tx('1-1-1').file]).toEqual([0, 1, 2]);
    expect([tx('0-1-5').position, tx('0-1-9').position, tx('0-1-14').position]).toEqual([1169, 336, 17833]);
  });

  it('keeps the session prelude the tool prints once', () => {
    expect(parsed.sessionPrelude).toEqual([
      '/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/',
      '/*!40019 SET @@session.max_delayed_threads=0*/',
      '/*!50003 SET @OLD_COMPLETION_TYPE=@@COMPLETION_TYPE,COMPLETION_TYPE=0*/',
    ]);
  });

  it('makes each transaction self-contained: format description, its own GTID statements, BEGIN..COMMIT', () => {
    const s = tx('0-1-5').statements;
    expect(s[0]).toMatch(/^BINLOG '\n[A-Za-z0-9+/=\n]+'$/);
    expect(s.slice(1, 6)).toEqual([
      'SET @@session.gtid_domain_id=0',
      'SET @@session.server_id=1',
      'SET @@session.gtid_seq_no=5',
      '/*M!100101 SET @@session.skip_parallel_replication=0*/',
      'START TRANSACTION',
    ]);
    expect(s.at(-1)).toBe('COMMIT');
    // mariadb-binlog's own GTID statements and the client command \C are not replayed.
    expect(s.some((x) => /\/\*M!100001 SET @@session\.gtid_seq_no/.test(x))).toBe(false);
    expect(parsed.transactions.some((t) => t.statements.some((x) => x.includes('\\C ')))).toBe(false);
  });

  it('carries the session the tool printed once (for 0-1-7) into later transactions', () => {
    expect(tx('0-1-5').statements).not.toContain('SET @@session.sql_mode=1411383296');
    const s = tx('0-1-9').statements;
    expect(s).toContain('SET @@session.sql_mode=1411383296');
    expect(s).toContain('SET @@session.pseudo_thread_id=6');
    expect(s).toContain('/*M!100101 SET @@session.skip_parallel_replication=0*/');
    // Carried settings come before the transaction's own GTID statements.
    expect(s.indexOf('SET @@session.sql_mode=1411383296')).toBeLessThan(
      s.indexOf('SET @@session.gtid_seq_no=9'),
    );
  });

  it('takes the format description of the file a transaction is in', () => {
    expect(tx('0-1-9').statements[0]).not.toBe(tx('0-1-8').statements[0]);
    expect(tx('0-1-9').statements[0]).toBe(tx('0-1-11').statements[0]);
  });

  it('reads a multi-statement transaction with several row events as one', () => {
    const s = tx('0-1-6').statements.filter((x) => x.startsWith('BINLOG')).length;
    expect(s).toBe(2); // the format description and the one row statement of 0-1-6
    const multi = tx('0-1-5').statements;
    expect(multi.filter((x) => x.startsWith('BINLOG ')).length).toBe(4); // FDE + insert, update, delete
  });

  it('reads DDL (no BEGIN) as one statement committing by itself', () => {
    expect(tx('0-1-7').statements.at(-1)).toBe(
      'CREATE TABLE salvage.m (id INT PRIMARY KEY, v TEXT) ENGINE=MyISAM',
    );
    expect(tx('0-1-18').statements.at(-1)).toBe('TRUNCATE TABLE salvage.odd');
  });

  it('keeps a DDL whose string literal holds "/*!*/;" and "# at 4" lines whole', () => {
    expect(tx('0-1-12').statements.at(-1)).toBe(
      "CREATE TABLE salvage.odd (c VARCHAR(40) DEFAULT 'a\n/*!*/;\n# at 4\nb')",
    );
  });

  it('ends non-transactional, XA and statement-format transactions where the server did', () => {
    expect(tx('0-1-8').statements.at(-1)).toBe('COMMIT'); // MyISAM: a COMMIT query, no Xid
    expect(tx('0-1-15').statements.at(-1)).toBe('COMMIT'); // mixed, rolled back: only MyISAM logged
    expect(tx('0-1-16').statements.at(-1)).toBe("XA PREPARE X'7831',X'',1");
    expect(tx('0-1-17').statements.at(-1)).toBe("XA COMMIT X'7831',X'',1");
    const stmt = tx('0-1-14').statements;
    expect(stmt).toContain('use `salvage`');
    expect(stmt).toContain('SET INSERT_ID=139');
    expect(stmt.at(-1)).toBe('COMMIT');
  });

  it('marks CREATE ... SELECT unreplayable, and nothing else', () => {
    expect(tx('0-1-20').unreplayable).toMatch(/CREATE \.\.\. SELECT/);
    expect(parsed.transactions.filter((t) => t.unreplayable !== null).map((t) => t.gtid)).toEqual(['0-1-20']);
  });

  it('carries UTF-8 text as it was written', () => {
    expect(tx('0-1-21').statements.at(-1)).toContain("DEFAULT 'é☃'");
  });
});

describe('parseBinlogText on torn logs', () => {
  it('returns the complete transactions and counts the torn last one as cut', () => {
    const p = parseBinlogText('mariadb', fixture('mariadb-10.11-torn.txt'));
    expect(p.transactions.map((t) => t.gtid)).toEqual(['0-1-18', '0-1-19', '0-1-20', '0-1-21']);
    expect(p.complete).toBe(4);
    expect(p.cut).toBe(1);
    expect(p.cutGtids).toEqual(['0-1-22']);
  });

  it('torn inside the GTID event: the transaction is not seen at all', () => {
    const p = parseBinlogText('mariadb', fixture('mariadb-10.11-torn-header.txt'));
    expect(p.transactions.map((t) => t.gtid)).toEqual(['0-1-18', '0-1-19', '0-1-20', '0-1-21']);
    expect(p.cut).toBe(0);
  });

  it('nothing after a caught-up position', () => {
    const p = parseBinlogText('mariadb', fixture('mariadb-10.11-caught-up.txt'));
    expect(p).toMatchObject({ complete: 0, cut: 0, fileStarts: ['0-1-11'], problems: [] });
  });

  it('output cut in the middle of a BINLOG statement (a size limit): that transaction is cut', () => {
    const text = fixture('mariadb-10.11-from-0-1-4.txt');
    const at = text.indexOf('GTID 0-1-13 trans');
    const cutAt = text.indexOf("BINLOG '", at) + 30;
    const p = parseBinlogText('mariadb', text.slice(0, cutAt));
    expect(p.transactions.at(-1)?.gtid).toBe('0-1-12');
    expect(p.cutGtids).toEqual(['0-1-13']);
  });

  it.each([
    ['mariadb', 'mariadb-10.11-from-0-1-4.txt'],
    ['mysql', 'mysql-8.0-handwritten.txt'],
  ] as const)(
    '%s: wherever the output stops, what is returned is exactly what the whole has',
    (flavor, name) => {
      const text = fixture(name);
      const whole = new Map(parseBinlogText(flavor, text).transactions.map((t) => [t.gtid, t.statements]));
      // Inside the string literal holding "/*!*/;" on a line of its own, a cut right after that line
      // reads as a complete statement: it fails to replay (unclosed quote), it cannot change data.
      const odd = [text.indexOf("DEFAULT 'a\n"), text.indexOf("b')\n/*!*/;")];
      for (let at = 0; at < text.length; at += 61) {
        if (at > odd[0] && at < odd[1]) continue;
        const p = parseBinlogText(flavor, text.slice(0, at));
        for (const t of p.transactions) expect(t.statements).toEqual(whole.get(t.gtid));
        expect(p.complete + p.cut).toBeLessThanOrEqual(whole.size);
      }
    },
  );

  it('a cut transaction in the middle: later ones are counted, never returned', () => {
    const text = fixture('mariadb-10.11-from-0-1-4.txt');
    // Drop the Xid event of 0-1-6 (its COMMIT): 0-1-6 has no end, 0-1-7 starts.
    const xid = text.indexOf('Xid = 14');
    const start = text.lastIndexOf('# at', xid);
    const end = text.indexOf('COMMIT/*!*/;', xid) + 'COMMIT/*!*/;'.length;
    const p = parseBinlogText('mariadb', text.slice(0, start) + text.slice(end));
    expect(p.transactions.map((t) => t.gtid)).toEqual(['0-1-5']);
    expect(p.cutGtids).toEqual(['0-1-6']);
    expect(p.afterCut).toBe(17);
  });
});
