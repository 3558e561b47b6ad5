import { GtidParseError, gtidOps } from '../../domain/gtid';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '8a94f357-aab4-11df-86ab-c80aa9429563';
const C = 'd1f5c6a2-5b7e-11ee-9c42-0242ac120004';

describe('gtidOps("mysql")', () => {
  const ops = gtidOps('mysql');

  it('normalizes and detects the empty set', () => {
    expect(ops.flavor).toBe('mysql');
    expect(ops.normalize(`${B}:1-3,\n${A.toUpperCase()}:6-9:1-5`)).toBe(`${A}:1-9,${B}:1-3`);
    expect(ops.isEmpty('')).toBe(true);
    expect(ops.isEmpty(`${A}:1`)).toBe(false);
  });

  it('compares executed sets', () => {
    expect(ops.compare(`${A}:1-10`, `${A}:1-10`)).toBe('equal');
    expect(ops.compare(`${A}:1-11`, `${A}:1-10`)).toBe('ahead');
    expect(ops.compare(`${A}:1-9`, `${A}:1-10`)).toBe('behind');
    expect(ops.compare(`${A}:1-10,${C}:1`, `${A}:1-11`)).toBe('diverged');
    expect(ops.contains(`${A}:1-10,${B}:1-2`, `${A}:3-4`)).toBe(true);
    expect(ops.contains(`${A}:1-10`, `${A}:3-4,${B}:1`)).toBe(false);
  });

  it('tells whether the target caught up with the primary position and what it lacks', () => {
    const primary = `${A}:1-100,\n${B}:1-20`;
    expect(ops.isCaughtUp(`${A}:1-100,${B}:1-20`, primary)).toBe(true);
    expect(ops.isCaughtUp(`${A}:1-120,${B}:1-20`, primary)).toBe(true);
    expect(ops.isCaughtUp(`${A}:1-98,${B}:1-20`, primary)).toBe(false);
    expect(ops.missing(`${A}:1-98,${B}:1-20`, primary)).toBe(`${A}:99-100`);
    expect(ops.missing(primary, primary)).toBe('');
  });

  it('finds errant transactions: the replica executed set minus the primary one', () => {
    expect(ops.errant(`${A}:1-100`, `${A}:1-120`)).toEqual({
      flavor: 'mysql',
      errant: false,
      gtidSet: '',
      count: 0,
      summary: 'no errant transactions',
    });
    const found = ops.errant(`${A}:1-100,\n${C}:1-3`, `${A}:1-120,${B}:1-5`);
    expect(found).toEqual({
      flavor: 'mysql',
      errant: true,
      gtidSet: `${C}:1-3`,
      count: 3,
      summary: `3 errant transactions not on the primary: ${C}:1-3`,
    });
  });

  it('ranks replicas by advancement and reports the most advanced', () => {
    const r = ops.rank([
      { name: 'db2', gtid: `${A}:1-90` },
      { name: 'db3', gtid: `${A}:1-100` },
      { name: 'db4', gtid: `${A}:1-95` },
      { name: 'db5', gtid: `${A}:1-100` },
    ]);
    expect(r).toEqual({ order: ['db3', 'db5', 'db4', 'db2'], mostAdvanced: 'db3', diverged: [] });
  });

  it('reports diverged pairs and no most advanced node when none has everything', () => {
    const r = ops.rank([
      { name: 'db2', gtid: `${A}:1-100` },
      { name: 'db3', gtid: `${A}:1-90,${C}:1-30` },
      { name: 'db4', gtid: `${A}:1-80` },
    ]);
    expect(r.order).toEqual(['db3', 'db2', 'db4']);
    expect(r.mostAdvanced).toBeNull();
    expect(r.diverged).toEqual([['db2', 'db3']]);
  });

  it('ranks nothing as nothing and refuses duplicate names', () => {
    expect(ops.rank([])).toEqual({ order: [], mostAdvanced: null, diverged: [] });
    expect(() =>
      ops.rank([
        { name: 'db2', gtid: '' },
        { name: 'db2', gtid: '' },
      ]),
    ).toThrow(/listed twice/);
  });

  it('throws GtidParseError on malformed input', () => {
    expect(() => ops.compare(`${A}:9-3`, '')).toThrow(GtidParseError);
  });
});

describe('gtidOps("mariadb")', () => {
  const ops = gtidOps('mariadb');

  it('normalizes positions and refuses a binlog state where a position is expected', () => {
    expect(ops.flavor).toBe('mariadb');
    expect(ops.normalize('1-2-5, 0-1-100')).toBe('0-1-100,1-2-5');
    expect(ops.isEmpty('')).toBe(true);
    expect(() => ops.normalize('0-1-100,0-2-5')).toThrow(/domain 0 appears twice/);
  });

  it('compares positions and tells whether a target caught up', () => {
    expect(ops.compare('0-1-100,1-2-5', '0-1-100,1-2-5')).toBe('equal');
    expect(ops.compare('0-2-105', '0-1-100')).toBe('ahead');
    expect(ops.compare('0-1-100,1-2-4', '0-1-100,1-2-5')).toBe('behind');
    expect(ops.compare('0-1-100', '0-2-100')).toBe('diverged');
    expect(ops.contains('0-1-100,1-2-5', '0-1-99')).toBe(true);
    expect(ops.isCaughtUp('0-1-100,1-2-5', '0-1-100,1-2-5')).toBe(true);
    expect(ops.isCaughtUp('0-1-100', '0-1-100,1-2-5')).toBe(false);
    expect(ops.missing('0-1-100', '0-1-100,1-2-5')).toBe('1-2-5');
    expect(ops.isCaughtUp('0-3-100', '0-1-100')).toBe(false);
  });

  it('finds errant transactions from binlog states, with the primary seq or null', () => {
    expect(ops.errant('0-1-100,1-2-5', '0-1-100,0-3-7,1-2-5')).toEqual({
      flavor: 'mariadb',
      errant: false,
      entries: [],
      summary: 'no errant transactions',
    });
    const found = ops.errant('0-1-100,0-3-12,1-2-9', '0-1-100,1-2-5');
    expect(found.errant).toBe(true);
    expect(found.flavor === 'mariadb' && found.entries).toEqual([
      { domain: 0, serverId: 3, replicaSeq: 12, primarySeq: null },
      { domain: 1, serverId: 2, replicaSeq: 9, primarySeq: 5 },
    ]);
    expect(found.summary).toBe(
      'errant transactions not on the primary: 0-3-12 (primary has nothing from server 3 in domain 0), ' +
        '1-2-9 (primary has up to 1-2-5)',
    );
  });

  it('ranks replicas by position, most advanced first', () => {
    const r = ops.rank([
      { name: 'db2', gtid: '0-1-1000' },
      { name: 'db3', gtid: '0-1-1002,1-2-5' },
      { name: 'db4', gtid: '0-1-1002' },
    ]);
    expect(r).toEqual({ order: ['db3', 'db4', 'db2'], mostAdvanced: 'db3', diverged: [] });
  });

  it('reports replicas whose histories split', () => {
    const r = ops.rank([
      { name: 'db2', gtid: '0-1-1000' },
      { name: 'db3', gtid: '0-1-998,1-4-3' },
      { name: 'db4', gtid: '0-1-990' },
    ]);
    expect(r.order).toEqual(['db3', 'db2', 'db4']);
    expect(r.mostAdvanced).toBeNull();
    expect(r.diverged).toEqual([['db2', 'db3']]);
  });
});
