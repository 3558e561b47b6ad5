// Property tests: the set algebra against its laws and against a naive model (a Set of every
// single transaction), over sets generated in the noisy shapes servers and humans produce.
import fc from 'fast-check';
import {
  compareMariadbPos,
  formatMariadbGtidList,
  formatMysqlGtidSet,
  gtidOps,
  invertRelation,
  MariadbGtid,
  mysqlGtidCount,
  mysqlGtidEquals,
  mysqlGtidIntersect,
  mysqlGtidIsEmpty,
  mysqlGtidIsSubset,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  MysqlGtidSet,
  parseMariadbGtidPos,
  parseMysqlGtidSet,
} from '../../domain/gtid';

const UUIDS = [
  '3e11fa47-71ca-11e1-9e33-c80aa9429562',
  '8a94f357-aab4-11df-86ab-c80aa9429563',
  'd1f5c6a2-5b7e-11ee-9c42-0242ac120004',
];
const TAGS = ['', 'tag_a', 'maint'];
const RUNS = { numRuns: 300 };

type Piece = { uuid: string; tag: string; start: number; length: number; upper: boolean; space: string };

const piece: fc.Arbitrary<Piece> = fc.record({
  uuid: fc.constantFrom(...UUIDS),
  tag: fc.constantFrom(...TAGS),
  // Small numbers so that generated intervals overlap, touch and nest often.
  start: fc.integer({ min: 1, max: 40 }),
  length: fc.integer({ min: 0, max: 6 }),
  upper: fc.boolean(),
  space: fc.constantFrom('', ' ', '\n', ' \n  '),
});

/** A GTID set text, unsorted, with repeated UUIDs, random case and whitespace; and its model. */
const gtidText = fc.array(piece, { maxLength: 8 }).map((pieces) => {
  const text = pieces
    .map((p) => {
      const uuid = p.upper ? p.uuid.toUpperCase() : p.uuid;
      const tag = p.tag ? `${p.upper ? p.tag.toUpperCase() : p.tag}${p.space}:` : '';
      const range = p.length === 0 ? `${p.start}` : `${p.start}${p.space}-${p.start + p.length}`;
      return `${p.space}${uuid}:${p.space}${tag}${range}`;
    })
    .join(',');
  const model = new Set<string>();
  for (const p of pieces)
    for (let n = p.start; n <= p.start + p.length; n++) model.add(`${p.uuid}:${p.tag}:${n}`);
  return { text, model };
});
const gtidSet = gtidText.map(({ text }) => parseMysqlGtidSet(text));

function members(set: MysqlGtidSet): Set<string> {
  const out = new Set<string>();
  for (const e of set.entries)
    for (const [s, t] of e.intervals) for (let n = s; n <= t; n++) out.add(`${e.uuid}:${e.tag}:${n}`);
  return out;
}
const sorted = (s: Set<string>) => [...s].sort();

describe('MySQL GTID sets: parsing against the model', () => {
  it('parses exactly the transactions written, in canonical form', () => {
    fc.assert(
      fc.property(gtidText, ({ text, model }) => {
        const set = parseMysqlGtidSet(text);
        expect(sorted(members(set))).toEqual(sorted(model));
        expect(mysqlGtidCount(set)).toBe(model.size);
        for (const e of set.entries) {
          expect(e.uuid).toBe(e.uuid.toLowerCase());
          e.intervals.forEach(([s, t], i) => {
            expect(s).toBeLessThanOrEqual(t);
            // Sorted, disjoint and not even touching: merged.
            if (i > 0) expect(s).toBeGreaterThan(e.intervals[i - 1][1] + 1);
          });
        }
      }),
      RUNS,
    );
  });

  it('parse(format(x)) = x, and format is a fixed point', () => {
    fc.assert(
      fc.property(gtidSet, (x) => {
        const text = formatMysqlGtidSet(x);
        expect(parseMysqlGtidSet(text)).toEqual(x);
        expect(formatMysqlGtidSet(parseMysqlGtidSet(text))).toBe(text);
      }),
      RUNS,
    );
  });
});

describe('MySQL GTID set algebra laws', () => {
  it('union, subtract and intersect agree with the model', () => {
    fc.assert(
      fc.property(gtidSet, gtidSet, (a, b) => {
        const ma = members(a);
        const mb = members(b);
        expect(sorted(members(mysqlGtidUnion(a, b)))).toEqual(sorted(new Set([...ma, ...mb])));
        expect(sorted(members(mysqlGtidSubtract(a, b)))).toEqual(
          sorted(new Set([...ma].filter((m) => !mb.has(m)))),
        );
        expect(sorted(members(mysqlGtidIntersect(a, b)))).toEqual(
          sorted(new Set([...ma].filter((m) => mb.has(m)))),
        );
        expect(mysqlGtidIsSubset(a, b)).toBe([...ma].every((m) => mb.has(m)));
      }),
      RUNS,
    );
  });

  it('union is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(gtidSet, gtidSet, gtidSet, (a, b, c) => {
        expect(mysqlGtidEquals(mysqlGtidUnion(a, b), mysqlGtidUnion(b, a))).toBe(true);
        expect(
          mysqlGtidEquals(mysqlGtidUnion(mysqlGtidUnion(a, b), c), mysqlGtidUnion(a, mysqlGtidUnion(b, c))),
        ).toBe(true);
        expect(mysqlGtidUnion(a, a)).toEqual(a);
      }),
      RUNS,
    );
  });

  it('A ⊆ A ∪ B, (A − B) ∩ B = ∅ and (A − B) ∪ (A ∩ B) = A', () => {
    fc.assert(
      fc.property(gtidSet, gtidSet, (a, b) => {
        expect(mysqlGtidIsSubset(a, mysqlGtidUnion(a, b))).toBe(true);
        expect(mysqlGtidIsEmpty(mysqlGtidIntersect(mysqlGtidSubtract(a, b), b))).toBe(true);
        expect(mysqlGtidUnion(mysqlGtidSubtract(a, b), mysqlGtidIntersect(a, b))).toEqual(a);
      }),
      RUNS,
    );
  });

  it('A ⊆ B iff A ∪ B = B, and A ⊆ B iff A − B = ∅', () => {
    fc.assert(
      fc.property(gtidSet, gtidSet, (a, b) => {
        const subset = mysqlGtidIsSubset(a, b);
        expect(mysqlGtidEquals(mysqlGtidUnion(a, b), b)).toBe(subset);
        expect(mysqlGtidIsEmpty(mysqlGtidSubtract(a, b))).toBe(subset);
      }),
      RUNS,
    );
    // Random pairs are rarely subsets: check the "true" side on pairs built to be subsets.
    fc.assert(
      fc.property(gtidSet, gtidSet, (a, b) => {
        const big = mysqlGtidUnion(a, b);
        expect(mysqlGtidIsSubset(a, big)).toBe(true);
        expect(mysqlGtidEquals(mysqlGtidUnion(a, big), big)).toBe(true);
      }),
      RUNS,
    );
  });

  it('errant = replica − primary, and replica is caught up iff nothing is missing', () => {
    const ops = gtidOps('mysql');
    fc.assert(
      fc.property(gtidSet, gtidSet, (replica, primary) => {
        const r = formatMysqlGtidSet(replica);
        const p = formatMysqlGtidSet(primary);
        const errant = ops.errant(r, p);
        expect(errant.flavor === 'mysql' && errant.gtidSet).toBe(
          formatMysqlGtidSet(mysqlGtidSubtract(replica, primary)),
        );
        expect(errant.errant).toBe(!mysqlGtidIsSubset(replica, primary));
        expect(ops.isCaughtUp(r, p)).toBe(ops.missing(r, p) === '');
        expect(ops.compare(r, p)).toBe(invertRelation(ops.compare(p, r)));
      }),
      RUNS,
    );
  });
});

const mariadbPos = fc
  .uniqueArray(
    fc.record({
      domain: fc.integer({ min: 0, max: 3 }),
      serverId: fc.integer({ min: 1, max: 3 }),
      seq: fc.integer({ min: 1, max: 12 }),
    }),
    { selector: (g) => g.domain, maxLength: 4 },
  )
  .map((list): MariadbGtid[] => list);

describe('MariaDB positions: laws', () => {
  it('parse(format(x)) = x sorted by domain', () => {
    fc.assert(
      fc.property(mariadbPos, (x) => {
        const text = formatMariadbGtidList(x);
        expect(parseMariadbGtidPos(text)).toEqual([...x].sort((a, b) => a.domain - b.domain));
        expect(formatMariadbGtidList(parseMariadbGtidPos(text.split(',').reverse().join(' ,\n')))).toBe(text);
      }),
      RUNS,
    );
  });

  it('comparison is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(mariadbPos, mariadbPos, (a, b) => {
        expect(compareMariadbPos(a, b).relation).toBe(invertRelation(compareMariadbPos(b, a).relation));
        expect(compareMariadbPos(a, a).relation).toBe('equal');
      }),
      RUNS,
    );
  });

  it('ranking never puts a node before one that contains it strictly', () => {
    const ops = gtidOps('mariadb');
    fc.assert(
      fc.property(fc.array(mariadbPos, { maxLength: 5 }), (positions) => {
        const nodes = positions.map((p, i) => ({ name: `db${i + 1}`, gtid: formatMariadbGtidList(p) }));
        const { order, mostAdvanced, diverged } = ops.rank(nodes);
        const gtidOf = new Map(nodes.map((n) => [n.name, n.gtid]));
        expect([...order].sort()).toEqual(nodes.map((n) => n.name).sort());
        for (let i = 0; i < order.length; i++)
          for (let j = i + 1; j < order.length; j++)
            expect(ops.compare(gtidOf.get(order[i])!, gtidOf.get(order[j])!)).not.toBe('behind');
        if (mostAdvanced !== null)
          for (const n of nodes) expect(ops.contains(gtidOf.get(mostAdvanced)!, n.gtid)).toBe(true);
        else if (nodes.length > 0)
          expect(nodes.some((n) => !ops.contains(gtidOf.get(order[0])!, n.gtid))).toBe(true);
        const expected = nodes.flatMap((a, i) =>
          nodes
            .slice(i + 1)
            .flatMap((b) => (ops.compare(a.gtid, b.gtid) === 'diverged' ? [[a.name, b.name]] : [])),
        );
        expect(diverged).toEqual(expected);
      }),
      RUNS,
    );
  });
});

describe('MySQL ranking', () => {
  it('never puts a node before one that contains it strictly', () => {
    const ops = gtidOps('mysql');
    fc.assert(
      fc.property(fc.array(gtidSet, { maxLength: 5 }), (sets) => {
        const nodes = sets.map((s, i) => ({ name: `db${i + 1}`, gtid: formatMysqlGtidSet(s) }));
        const { order, mostAdvanced } = ops.rank(nodes);
        const gtidOf = new Map(nodes.map((n) => [n.name, n.gtid]));
        for (let i = 0; i < order.length; i++)
          for (let j = i + 1; j < order.length; j++)
            expect(ops.compare(gtidOf.get(order[i])!, gtidOf.get(order[j])!)).not.toBe('behind');
        const top = nodes.find((n) => nodes.every((m) => ops.contains(n.gtid, m.gtid)));
        expect(mostAdvanced === null).toBe(top === undefined);
        if (mostAdvanced !== null)
          expect(nodes.every((m) => ops.contains(gtidOf.get(mostAdvanced)!, m.gtid))).toBe(true);
      }),
      RUNS,
    );
  });
});
