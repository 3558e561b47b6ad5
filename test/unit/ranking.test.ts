import fc from 'fast-check';
import { gtidOps } from '../../domain/gtid';
import { candidateOrder, rankCandidates, UnreadableGtid } from '../../domain/ranking';
import type { NodeState } from '../../domain/topology';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const gtid = gtidOps('mariadb');
const rank = (c = cluster(), t = topology()) =>
  rankCandidates({ cluster: c, primary: 'db1', nodes: t.nodes, gtid });
const hosts = (rules: Record<string, object>, n = 3) =>
  Array.from({ length: n }, (_, i) => ({
    name: `db${i + 1}`,
    address: `10.0.0.${11 + i}`,
    ...rules[`db${i + 1}`],
  }));

describe('candidate ranking, rule by rule', () => {
  test('never ranks the primary; ties break by name', () => {
    const r = rank();
    expect(r.candidates.map((c) => c.name)).toEqual(['db2', 'db3']);
    expect(r.best).toBe('db2');
  });

  test('promotion rule comes first: prefer beats a more advanced neutral', () => {
    const c = cluster({ hosts: hosts({ db3: { promotion: 'prefer' } }) });
    const t = topology({ db2: { gtidExecuted: '0-1-120' }, db3: { gtidExecuted: '0-1-100' } });
    expect(rank(c, t).best).toBe('db3');
  });

  test('must beats prefer, prefer_not comes after neutral', () => {
    const c = cluster({
      hosts: hosts(
        { db2: { promotion: 'prefer_not' }, db3: { promotion: 'neutral' }, db4: { promotion: 'must' } },
        4,
      ),
    });
    expect(rank(c, topology({}, 4)).candidates.map((x) => x.name)).toEqual(['db4', 'db3', 'db2']);
  });

  test('must_not, deny and allow exclude, with the reason', () => {
    const c = cluster({
      hosts: hosts({ db2: { promotion: 'must_not' } }, 4),
      policy: { deny: ['db3'], allow: ['db2', 'db3'] },
    });
    const r = rank(c, topology({}, 4));
    expect(r.best).toBeUndefined();
    const reasons = Object.fromEntries(r.candidates.map((x) => [x.name, x.reasons]));
    expect(reasons.db2).toContain('promotion rule must_not');
    expect(reasons.db3).toContain('on the policy deny list');
    expect(reasons.db4).toContain('not on the policy allow list');
  });

  test('health: unreachable, not a replica, failed SQL thread are excluded; a reconnecting IO thread is not', () => {
    const t = topology(
      {
        db2: { reachable: false, error: 'connect ETIMEDOUT' },
        db3: { replication: null },
        db4: { replication: replicaOf('db1', { sqlError: 'Duplicate entry' }) },
        db5: {
          replication: replicaOf('db1', { ioRunning: 'connecting', ioError: 'error reconnecting to master' }),
        },
      },
      5,
    );
    const r = rank(cluster({}, 5), t);
    expect(r.best).toBe('db5');
    const reasons = Object.fromEntries(r.candidates.map((x) => [x.name, x.reasons.join('; ')]));
    expect(reasons.db2).toMatch(/unreachable: connect ETIMEDOUT/);
    expect(reasons.db3).toMatch(/not a replica/);
    expect(reasons.db4).toMatch(/SQL thread failed: Duplicate entry/);
  });

  test('most advanced GTID position wins among equal rules', () => {
    const t = topology({ db2: { gtidExecuted: '0-1-90' }, db3: { gtidExecuted: '0-1-99' } });
    expect(rank(cluster(), t).best).toBe('db3');
  });

  test('then lag', () => {
    const t = topology({
      db2: { replication: replicaOf('db1', { lagSeconds: 4 }) },
      db3: { replication: replicaOf('db1', { lagSeconds: 1 }) },
    });
    expect(rank(cluster(), t).best).toBe('db3');
  });

  test("then the old primary's data center", () => {
    const c = cluster({
      hosts: hosts({ db1: { dataCenter: 'dc1' }, db2: { dataCenter: 'dc2' }, db3: { dataCenter: 'dc1' } }),
    });
    const r = rank(c);
    expect(r.best).toBe('db3');
    expect(r.candidates[0].reasons.join(' ')).toMatch(/same data center as db1/);
  });
});

describe('candidate ranking is a total order', () => {
  test('diverged candidates do not tie: the order does not depend on the input order', () => {
    // db2 has an errant write in its own domain, db3 more of domain 0: they are diverged.
    const t = topology(
      {
        db2: { gtidExecuted: '0-1-100,9-2-1' },
        db3: { gtidExecuted: '0-1-103' },
        db4: { gtidExecuted: '0-1-101' },
      },
      4,
    );
    const forward = rank(cluster({}, 4), t);
    const backward = rank(cluster({}, 4), { ...t, nodes: [...t.nodes].reverse() });
    expect(forward.candidates.map((c) => c.name)).toEqual(['db3', 'db2', 'db4']);
    expect(backward.candidates.map((c) => c.name)).toEqual(['db3', 'db2', 'db4']);
  });

  test('positionOf is what advancement is judged on', () => {
    const t = topology({ db2: { gtidExecuted: '0-1-90' }, db3: { gtidExecuted: '0-1-99' } });
    const received: Record<string, string> = { db2: '0-1-120', db3: '0-1-99' };
    const r = rankCandidates({
      cluster: cluster(),
      primary: 'db1',
      nodes: t.nodes,
      gtid,
      positionOf: (n) => received[n.name],
    });
    expect(r.best).toBe('db2');
  });

  test('a position that does not parse names its host and the fix', () => {
    const t = topology({ db3: { gtidExecuted: '0-1-99,garbage' } });
    let thrown: unknown;
    try {
      rank(cluster(), t);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UnreadableGtid);
    expect((thrown as UnreadableGtid).host).toBe('db3');
    expect((thrown as Error).message).toMatch(
      /^db3's GTID position cannot be read: invalid MariaDB GTID position/,
    );
    expect((thrown as Error).message).toMatch(/set promotion: must_not on db3/);
  });
});

// Property tests: over generated candidates (rules, positions that are often diverged, lag, data
// centers), the order is antisymmetric and transitive, the ranking does not depend on the input
// order, and a strictly more advanced candidate never ranks after a less advanced one of its tier.
describe('candidate ranking, properties', () => {
  const RUNS = { numRuns: 300 };
  const RULES = ['must', 'prefer', 'neutral', 'prefer_not', 'must_not'] as const;

  const mariadbPos = fc
    .uniqueArray(
      fc.record({
        domain: fc.constantFrom(0, 1, 9),
        server: fc.integer({ min: 1, max: 3 }),
        seq: fc.integer({ min: 0, max: 12 }),
      }),
      { selector: (g) => g.domain, maxLength: 3 },
    )
    .map((gs) => gs.map((g) => `${g.domain}-${g.server}-${g.seq}`).join(','));
  const UUIDS = ['3e11fa47-71ca-11e1-9e33-c80aa9429562', '8a94f357-aab4-11df-86ab-c80aa9429563'];
  const mysqlSet = fc
    .tuple(...UUIDS.map(() => fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 3 }))))
    .map((per) =>
      per
        .map(([upTo, extra], i) =>
          upTo === 0 ? '' : `${UUIDS[i]}:1-${upTo}${extra ? `:${upTo + 2}-${upTo + 2 + extra}` : ''}`,
        )
        .filter(Boolean)
        .join(','),
    );

  const candidate = (position: fc.Arbitrary<string>) =>
    fc.record({
      rule: fc.constantFrom(...RULES),
      position,
      /** What positionOf answers instead, when set (emergency: what it received). */
      received: fc.option(position, { nil: undefined }),
      lag: fc.constantFrom(0, 0, 1, 5, null),
      dataCenter: fc.constantFrom(undefined, 'dc1', 'dc2'),
    });
  type Generated = {
    rule: (typeof RULES)[number];
    position: string;
    received?: string;
    lag: number | null;
    dataCenter?: string;
  };

  function world(gens: Generated[]) {
    const names = gens.map((_, i) => `db${i + 2}`);
    const c = cluster(
      {
        hosts: [
          { name: 'db1', address: '10.0.0.11', dataCenter: 'dc1' },
          ...gens.map((g, i) => ({
            name: names[i],
            address: `10.0.0.${12 + i}`,
            promotion: g.rule,
            ...(g.dataCenter ? { dataCenter: g.dataCenter } : {}),
          })),
        ],
      },
      gens.length + 1,
    );
    const nodes = topology(
      Object.fromEntries(
        gens.map((g, i) => [
          names[i],
          { gtidExecuted: g.position, replication: replicaOf('db1', { lagSeconds: g.lag }) },
        ]),
      ),
      gens.length + 1,
    ).nodes;
    const received = Object.fromEntries(gens.map((g, i) => [names[i], g.received ?? g.position]));
    return { c, nodes, positionOf: (n: NodeState) => received[n.name] ?? n.gtidExecuted };
  }

  for (const [flavor, position] of [
    ['mariadb', mariadbPos],
    ['mysql', mysqlSet],
  ] as const) {
    const ops = gtidOps(flavor);
    const candidates = fc.array(candidate(position), { minLength: 1, maxLength: 6 });

    test(`${flavor}: antisymmetric and transitive, and only a node ties with itself`, () => {
      fc.assert(
        fc.property(candidates, (gens) => {
          const { c, nodes, positionOf } = world(gens);
          const order = candidateOrder({ cluster: c, primary: 'db1', gtid: ops, positionOf });
          const xs = nodes.slice(1);
          for (const a of xs)
            for (const b of xs) {
              expect(Math.sign(order(a, b)) + Math.sign(order(b, a))).toBe(0);
              expect(order(a, b) === 0).toBe(a === b);
              for (const x of xs) if (order(a, b) < 0 && order(b, x) < 0) expect(order(a, x)).toBeLessThan(0);
            }
        }),
        RUNS,
      );
    });

    test(`${flavor}: the ranking does not depend on the input order`, () => {
      fc.assert(
        fc.property(
          candidates.chain((gens) =>
            fc.tuple(
              fc.constant(gens),
              fc.array(fc.nat(), { minLength: gens.length + 1, maxLength: gens.length + 1 }),
            ),
          ),
          ([gens, keys]) => {
            const { c, nodes, positionOf } = world(gens);
            const shuffled = nodes
              .map((n, i) => ({ n, k: keys[i] }))
              .sort((x, y) => x.k - y.k)
              .map((x) => x.n);
            const r1 = rankCandidates({ cluster: c, primary: 'db1', nodes, gtid: ops, positionOf });
            const r2 = rankCandidates({ cluster: c, primary: 'db1', nodes: shuffled, gtid: ops, positionOf });
            const r3 = rankCandidates({
              cluster: c,
              primary: 'db1',
              nodes: [...nodes].reverse(),
              gtid: ops,
              positionOf,
            });
            const eligible = (r: typeof r1) => r.candidates.filter((x) => x.eligible).map((x) => x.name);
            expect(eligible(r2)).toEqual(eligible(r1));
            expect(eligible(r3)).toEqual(eligible(r1));
            expect(r2.best).toBe(r1.best);
            expect(r3.best).toBe(r1.best);
          },
        ),
        RUNS,
      );
    });

    test(`${flavor}: a strictly more advanced candidate never ranks after a less advanced one of its tier`, () => {
      fc.assert(
        fc.property(candidates, (gens) => {
          const { c, nodes, positionOf } = world(gens);
          const r = rankCandidates({ cluster: c, primary: 'db1', nodes, gtid: ops, positionOf });
          const ranked = r.candidates.filter((x) => x.eligible);
          const pos = (name: string) => positionOf(nodes.find((n) => n.name === name)!)!;
          ranked.forEach((a, i) =>
            ranked.slice(i + 1).forEach((b) => {
              if (a.rule === b.rule) expect(ops.compare(pos(b.name), pos(a.name))).not.toBe('ahead');
            }),
          );
        }),
        RUNS,
      );
    });
  }
});
