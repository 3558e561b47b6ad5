import { lostTransactions } from '../../domain/emergency';
import { gtidOps } from '../../domain/gtid';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '4a2b7e10-8f3c-11ee-a1b2-0242ac120003';
const lost = (flavor: 'mysql' | 'mariadb', oldPrimaryHistory: string | null, newPrimaryHistory: string) =>
  lostTransactions({
    gtid: gtidOps(flavor),
    oldPrimary: 'db1',
    oldPrimaryHistory,
    newPrimary: 'db2',
    newPrimaryHistory,
  });

describe('lost transactions report', () => {
  test('MySQL: what the dead primary committed that the new primary lacks, with the extraction command', () => {
    const r = lost('mysql', `${U1}:1-1042`, `${U1}:1-1037,\n${U2}:1-250`);
    expect(r).toEqual({
      known: true,
      lost: true,
      gtids: `${U1}:1038-1042`,
      count: 5,
      summary: `5 transactions committed on db1 never reached db2: ${U1}:1038-1042`,
      compensation: `extract them from db1's binary logs with mysqlbinlog --include-gtids='${U1}:1038-1042', review them against what db2 wrote since, and apply what still makes sense on db2`,
    });
  });

  test('MySQL: nothing lost when the new primary has everything', () => {
    expect(lost('mysql', `${U1}:1-1037`, `${U1}:1-1037,${U2}:1-250`)).toMatchObject({
      lost: false,
      count: 0,
    });
  });

  test("MariaDB: compared per server, so the new primary's later seq numbers in the domain hide nothing", () => {
    // db2 (server 2) promoted at 0-1-1037 and kept numbering domain 0 up to 1300: a position
    // comparison would call it ahead of db1's 0-1-1042.
    expect(gtidOps('mariadb').missing('0-2-1300', '0-1-1042')).toBe('');
    const r = lost('mariadb', '0-1-1042', '0-1-1037,0-2-1300');
    expect(r).toMatchObject({
      known: true,
      lost: true,
      gtids: '0-1-1042',
      count: null,
      summary:
        'transactions committed on db1 never reached db2: domain 0: server 1 after 0-1-1037 up to 0-1-1042',
    });
  });

  test('MariaDB: a domain the new primary never saw is lost entirely', () => {
    const r = lost('mariadb', '0-1-1042,1-1-7', '0-1-1042,0-2-1300');
    expect(r.known && r.summary).toBe(
      'transactions committed on db1 never reached db2: domain 1: everything from server 1 up to 1-1-7',
    );
  });

  test('MariaDB: nothing lost', () => {
    expect(lost('mariadb', '0-1-1042', '0-1-1042,0-2-1300')).toMatchObject({ known: true, lost: false });
  });

  test('the dead primary still unreachable: unknown, said so', () => {
    expect(lost('mysql', null, `${U1}:1-1037`)).toEqual({
      known: false,
      summary: 'db1 is still unreachable: what it committed and db2 lacks is unknown until it answers',
    });
  });
});
