import { gtidOps } from '../../domain/gtid';
import { moreAdvancedThan, rankCandidates } from '../../domain/ranking';
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

  test('moreAdvancedThan finds replicas holding what the chosen one lacks', () => {
    const t = topology(
      {
        db2: { gtidExecuted: '0-1-90' },
        db3: { gtidExecuted: '0-1-95' },
        db4: { gtidExecuted: '0-1-80,1-4-3' },
      },
      4,
    );
    const chosen = t.nodes[1];
    expect(moreAdvancedThan(chosen, t.nodes.slice(1), gtid)).toEqual([
      { name: 'db3', relation: 'ahead' },
      { name: 'db4', relation: 'diverged' },
    ]);
  });
});
