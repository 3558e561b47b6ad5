// The parser of HAProxy's `show stat` and who receives new connections under its backup rules.
// The fixture is a whole `show stat` captured from HAProxy 2.6.12 (test/fixtures/haproxy-show-stat-2.6.csv):
// backend mysql_writer has db1 active, db2 backup, db3 backup configured "disabled", db4 backup
// checked on a closed port (DOWN), db5 active checked UP with weight 0, db6 backup drained; a second
// backend "other" and the FRONTEND/BACKEND rows must be skipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseShowStat, receivers, type HaproxyServerStat } from '../../activities/traffic/haproxyState';

const CAPTURED = readFileSync(join(__dirname, '../fixtures/haproxy-show-stat-2.6.csv'), 'utf8');

describe('parseShowStat', () => {
  it('reads the servers of one backend by column name, in HAProxy order', () => {
    const s = parseShowStat(CAPTURED, 'mysql_writer');
    expect(s.map((x) => [x.server, x.status, x.backup, x.maint, x.drain, x.usable])).toEqual([
      ['db1', 'no check', false, false, false, true],
      ['db2', 'no check', true, false, false, true],
      ['db3', 'MAINT', true, true, false, false],
      ['db4', 'DOWN', true, false, false, false],
      ['db5', 'UP', false, false, false, false],
      ['db6', 'DRAIN', true, false, true, false],
    ]);
    expect(s[4]).toMatchObject({ backend: 'mysql_writer', weight: 0 });
    expect(parseShowStat(CAPTURED, 'other').map((x) => x.server)).toEqual(['x1']);
  });

  it('finds columns by name when a version reorders or adds them, and reads quoted fields', () => {
    const text =
      '# svname,extra,type,pxname,bck,weight,status,check_desc,\n' +
      'a,"x, ""y""",2,be,1,3,UP 2/3,"Layer7 wrong status, code: 500",\n' +
      'b,,2,be,0,1,MAINT (via be/a),,\n';
    expect(parseShowStat(text, 'be')).toEqual([
      {
        backend: 'be',
        server: 'a',
        status: 'UP 2/3',
        weight: 3,
        backup: true,
        maint: false,
        drain: false,
        usable: true,
      },
      {
        backend: 'be',
        server: 'b',
        status: 'MAINT (via be/a)',
        weight: 1,
        backup: false,
        maint: true,
        drain: false,
        usable: false,
      },
    ]);
  });

  it('reports an error answer, a missing column or an unknown status instead of guessing', () => {
    expect(() => parseShowStat('No such proxy.\n', 'be')).toThrow(/unexpected answer.*No such proxy/);
    expect(() => parseShowStat('# pxname,svname,status,weight,type\n', 'be')).toThrow(/no bck column/);
    const odd = '# pxname,svname,status,weight,bck,type\nbe,a,SOMETHING,1,0,2\n';
    expect(() => parseShowStat(odd, 'be')).toThrow(/be\/a has a status "SOMETHING"/);
    const short = '# pxname,svname,status,weight,bck,type\nbe,a,UP\n';
    expect(() => parseShowStat(short, 'be')).toThrow(/short "show stat" line/);
    const nan = '# pxname,svname,status,weight,bck,type\nbe,a,UP,,0,2\n';
    expect(() => parseShowStat(nan, 'be')).toThrow(/weight is not a number/);
  });

  it('a backend with no servers has none', () => {
    expect(parseShowStat(CAPTURED.split('\n')[0] + '\n\n', 'mysql_writer')).toEqual([]);
  });
});

/** A server as parsed; the status decides maint/drain/usable the way the parser does. */
function srv(
  server: string,
  status: string,
  opts: { backup?: boolean; weight?: number } = {},
): HaproxyServerStat {
  const text = `# pxname,svname,status,weight,bck,type\nbe,${server},${status},${opts.weight ?? 1},${opts.backup ? 1 : 0},2\n`;
  return parseShowStat(text, 'be')[0];
}
const names = (s: HaproxyServerStat[]) => s.map((x) => x.server);

describe('receivers (HAProxy backup rules)', () => {
  it('a ready active server takes the connections, not the ready backup', () => {
    expect(names(receivers([srv('db1', 'no check'), srv('db2', 'no check', { backup: true })]))).toEqual([
      'db1',
    ]);
    // Order does not matter between an active and a backup server.
    expect(names(receivers([srv('db2', 'no check', { backup: true }), srv('db1', 'UP')]))).toEqual(['db1']);
  });

  it('every usable active server shares the load (a second active server is a second writer)', () => {
    expect(
      names(receivers([srv('db1', 'no check'), srv('db2', 'UP 1/3'), srv('db3', 'UP', { backup: true })])),
    ).toEqual(['db1', 'db2']);
  });

  it('with the active server in maint, the first usable backup in HAProxy order takes them', () => {
    const servers = [
      srv('db1', 'MAINT'),
      srv('db2', 'MAINT', { backup: true }),
      srv('db3', 'no check', { backup: true }),
      srv('db4', 'no check', { backup: true }),
    ];
    expect(names(receivers(servers))).toEqual(['db3']);
    expect(names(receivers(servers, { allBackups: true }))).toEqual(['db3', 'db4']);
  });

  it('an active server DOWN by its health check, draining, NOLB or weight 0 is not usable', () => {
    for (const active of [
      srv('db1', 'DOWN'),
      srv('db1', 'DOWN 1/2'),
      srv('db1', 'DRAIN'),
      srv('db1', 'NOLB'),
      srv('db1', 'UP', { weight: 0 }),
    ])
      expect(names(receivers([active, srv('db2', 'no check', { backup: true })]))).toEqual(['db2']);
  });

  it('a backup that is down, draining or in maint is skipped; with nothing usable nobody takes them', () => {
    const servers = [
      srv('db1', 'MAINT'),
      srv('db2', 'DOWN', { backup: true }),
      srv('db3', 'DRAIN', { backup: true }),
    ];
    expect(receivers(servers)).toEqual([]);
    expect(names(receivers([...servers, srv('db4', 'UP', { backup: true })]))).toEqual(['db4']);
  });

  it('on the captured backend: db1 takes them; with db1 in maint, db2', () => {
    const s = parseShowStat(CAPTURED, 'mysql_writer');
    expect(names(receivers(s))).toEqual(['db1']);
    expect(names(receivers([srv('db1', 'MAINT'), ...s.slice(1)]))).toEqual(['db2']);
  });
});
