import {
  compareMariadbPos,
  formatMariadbGtidList,
  GtidParseError,
  mariadbErrant,
  mariadbPosContains,
  mariadbPosMissing,
  mariadbStateToPos,
  mariadbStateUpTo,
  normalizeMariadbGtidList,
  parseMariadbGtidPos,
  parseMariadbGtidState,
} from '../../domain/gtid';

const pos = parseMariadbGtidPos;
const state = parseMariadbGtidState;

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GtidParseError) return e.message;
    throw e;
  }
  throw new Error('expected a GtidParseError');
}

describe('parsing MariaDB GTID positions and binlog states', () => {
  it('reads positions as SELECT @@gtid_current_pos prints them, sorted by domain', () => {
    expect(pos('1-2-5,0-1-100')).toEqual([
      { domain: 0, serverId: 1, seq: 100 },
      { domain: 1, serverId: 2, seq: 5 },
    ]);
    expect(formatMariadbGtidList(pos('1-2-5,0-1-100'))).toBe('0-1-100,1-2-5');
  });

  it('reads an empty position (a fresh server) and tolerates whitespace between tokens', () => {
    expect(pos('')).toEqual([]);
    expect(normalizeMariadbGtidList(' 0 - 1 - 100 ,\n 1-2-5 ', 'position')).toBe('0-1-100,1-2-5');
  });

  it('reads @@gtid_binlog_state with several server_ids per domain, sorted by domain then server', () => {
    expect(normalizeMariadbGtidList('0-3-12,0-1-100,1-2-5', 'state')).toBe('0-1-100,0-3-12,1-2-5');
  });

  it('keeps 32-bit domain and server ids and large sequence numbers exact', () => {
    expect(pos('4294967295-4294967295-9007199254740991')).toEqual([
      { domain: 4294967295, serverId: 4294967295, seq: 9007199254740991 },
    ]);
  });

  it.each([
    ['0-1', 'expected "-" after the server id, found the end'],
    ['0-1-', 'expected sequence number (digits), found the end'],
    ['0-1-x', 'expected sequence number (digits), found "x"'],
    ['0:1:100', 'expected "-" after the domain id, found ":"'],
    ['0-1-100 1-2-5', 'expected "," or the end, found "1"'],
    ['0-1-100,', 'expected a GTID domain-server-seq after ",", found the end'],
    ['4294967296-1-1', 'domain id 4294967296 is larger than 2^32-1'],
    ['0-4294967296-1', 'server id 4294967296 is larger than 2^32-1'],
    ['0-1-18446744073709551615', 'sequence number 18446744073709551615 is larger than 2^53-1'],
  ])('rejects %j: %s', (text, reason) => {
    expect(message(() => pos(text))).toContain(
      `invalid MariaDB GTID position ${JSON.stringify(text)}: ${reason}`,
    );
  });

  it('rejects a position listing a domain twice and hints at the binlog state', () => {
    const m = message(() => pos('0-1-100,1-2-5,0-3-12'));
    expect(m).toContain('domain 0 appears twice (0-1-100 and 0-3-12)');
    expect(m).toContain('@@gtid_binlog_state');
    expect(m).toContain('at "0-3-12"');
  });

  it('rejects a binlog state listing a domain+server twice', () => {
    expect(message(() => state('0-1-100,0-1-90'))).toContain(
      'invalid MariaDB GTID binlog state "0-1-100,0-1-90": domain 0 server 1 appears twice (0-1-100 and 0-1-90)',
    );
  });

  it('reduces a binlog state to its position: the highest seq per domain', () => {
    expect(formatMariadbGtidList(mariadbStateToPos(state('0-1-100,0-3-12,1-2-5,1-7-9')))).toBe(
      '0-1-100,1-7-9',
    );
  });
});

describe('comparing MariaDB positions domain by domain', () => {
  it.each([
    ['0-1-100,1-2-5', '0-1-100,1-2-5', 'equal'],
    ['', '', 'equal'],
    ['0-1-101,1-2-5', '0-1-100,1-2-5', 'ahead'],
    ['0-1-100,1-2-5', '0-1-100', 'ahead'],
    ['0-1-100', '', 'ahead'],
    ['0-1-99,1-2-5', '0-1-100,1-2-5', 'behind'],
    ['0-1-101,1-2-4', '0-1-100,1-2-5', 'diverged'],
    ['0-1-100', '1-2-5', 'diverged'],
    // The same seq_no written by two servers: two different transactions.
    ['0-1-100', '0-2-100', 'diverged'],
    // A newer primary (server 2) continues the domain's sequence: seq_no decides, not server_id.
    ['0-2-105', '0-1-100', 'ahead'],
  ])('%j relative to %j is %s', (a, b, relation) => {
    expect(compareMariadbPos(pos(a), pos(b)).relation).toBe(relation);
  });

  it('reports each domain', () => {
    expect(compareMariadbPos(pos('0-1-101,2-3-7'), pos('0-1-100,1-2-5')).domains).toEqual([
      {
        domain: 0,
        a: { domain: 0, serverId: 1, seq: 101 },
        b: { domain: 0, serverId: 1, seq: 100 },
        relation: 'ahead',
      },
      { domain: 1, a: null, b: { domain: 1, serverId: 2, seq: 5 }, relation: 'behind' },
      { domain: 2, a: { domain: 2, serverId: 3, seq: 7 }, b: null, relation: 'ahead' },
    ]);
  });

  it('tells whether a target has reached a primary position and what it still lacks', () => {
    const primary = pos('0-1-100,1-2-5');
    expect(mariadbPosContains(pos('0-1-100,1-2-5'), primary)).toBe(true);
    expect(mariadbPosContains(pos('0-1-100,1-2-6,2-1-1'), primary)).toBe(true);
    expect(mariadbPosContains(pos('0-1-100'), primary)).toBe(false);
    expect(formatMariadbGtidList(mariadbPosMissing(pos('0-1-98'), primary))).toBe('0-1-100,1-2-5');
    expect(formatMariadbGtidList(mariadbPosMissing(pos('0-1-101,1-2-5'), primary))).toBe('');
    expect(formatMariadbGtidList(mariadbPosMissing(pos('0-3-100,1-2-5'), primary))).toBe('0-1-100');
  });

  it('refuses to compare lists that hold a domain twice (states are not positions)', () => {
    expect(() => compareMariadbPos(state('0-1-100,0-2-5'), pos('0-1-100'))).toThrow(/lists domain 0 twice/);
  });
});

describe('MariaDB errant transactions from @@gtid_binlog_state', () => {
  it('finds none when the primary has every domain+server at least as far', () => {
    expect(mariadbErrant(state('0-1-100,0-2-40'), state('0-1-120,0-2-40,1-3-7'))).toEqual([]);
    expect(mariadbErrant(state(''), state('0-1-1'))).toEqual([]);
  });

  it('flags a write made on the replica itself (its own server_id, unknown to the primary)', () => {
    expect(mariadbErrant(state('0-1-100,0-12-101'), state('0-1-100'))).toEqual([
      { domain: 0, serverId: 12, replicaSeq: 101, primarySeq: null },
    ]);
  });

  it('flags entries beyond the primary for the same domain+server, and keeps the primary seq', () => {
    expect(mariadbErrant(state('1-2-9,0-1-100,0-3-12'), state('0-1-100,0-3-10,1-2-5'))).toEqual([
      { domain: 0, serverId: 3, replicaSeq: 12, primarySeq: 10 },
      { domain: 1, serverId: 2, replicaSeq: 9, primarySeq: 5 },
    ]);
  });

  it('does not count a lagging replica as errant', () => {
    expect(mariadbErrant(state('0-1-50'), state('0-1-100,0-2-3'))).toEqual([]);
  });
});

describe('mariadbStateUpTo', () => {
  const upTo = (state: string, pos: string) =>
    formatMariadbGtidList(mariadbStateUpTo(parseMariadbGtidState(state), parseMariadbGtidPos(pos)));

  it('keeps the other servers` history, drops what lies past the position and ends at it', () => {
    // A primary (server 1) wrote up to 500; its successor continued from 0-1-490.
    expect(upTo('0-1-500,0-2-300,0-3-7', '0-1-490')).toBe('0-1-490,0-2-300,0-3-7');
    expect(upTo('0-1-100,0-2-1150', '0-2-1100')).toBe('0-1-100,0-2-1100');
  });

  it('drops domains the position lacks and adds those the state lacks', () => {
    expect(upTo('0-1-5,1-1-9', '0-1-5')).toBe('0-1-5');
    expect(upTo('', '0-2-10')).toBe('0-2-10');
  });
});
