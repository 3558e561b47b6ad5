import { chooseCandidate, type EmergencyNode } from '../../domain/emergency';
import { gtidOps } from '../../domain/gtid';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // db1, the dead primary
const U2 = '4a7b2c10-8f3c-11ee-b3c4-0242ac120003'; // db2's own
const U3 = '5c9d1f22-8f3c-11ee-b3c4-0242ac120004'; // db3's own

const DOWN = { reachable: false, readOnly: undefined, error: 'connect ECONNREFUSED 10.0.0.11:3306' };
const cut = replicaOf('db1', { ioRunning: 'connecting', ioError: "Can't connect", lagSeconds: null });

/** db1 dead; each replica at `executed` (gtidHistory too, unless given), relay from server 1. */
function deadPrimary(
  replicas: Record<string, { executed: string; history?: string }>,
  flavor: 'mariadb' | 'mysql' = 'mariadb',
): EmergencyNode[] {
  const names = Object.keys(replicas);
  const t = topology(
    Object.fromEntries([
      ['db1', DOWN],
      ...names.map((n) => [
        n,
        {
          replication: cut,
          gtidExecuted: replicas[n].executed,
          gtidHistory: replicas[n].history ?? replicas[n].executed,
        },
      ]),
    ]),
    names.length + 1,
  );
  return t.nodes.map((n) =>
    n.name === 'db1'
      ? n
      : {
          ...n,
          relay: {
            received: n.gtidExecuted ?? '',
            sourceServerId: 1,
            ...(flavor === 'mysql' ? { sourceUuid: U1 } : {}),
          },
        },
  );
}

const hosts = (rules: Record<string, object>, n = 3) =>
  Array.from({ length: n }, (_, i) => ({
    name: `db${i + 1}`,
    address: `10.0.0.${11 + i}`,
    ...rules[`db${i + 1}`],
  }));

const choose = (nodes: EmergencyNode[], overrides: Record<string, unknown> = {}) => {
  const c = cluster(overrides, nodes.length);
  return chooseCandidate({ cluster: c, primary: 'db1', nodes, gtid: gtidOps(c.flavor) });
};

const even = () => deadPrimary({ db2: { executed: '0-1-100' }, db3: { executed: '0-1-100' } });

describe('choosing the replica to promote when the primary is dead', () => {
  test('the most advanced replica is chosen, and the ranking says why', () => {
    const c = choose(deadPrimary({ db2: { executed: '0-1-98' }, db3: { executed: '0-1-105' } }));
    expect(c).toMatchObject({ ok: true, candidate: 'db3', warnings: [] });
    expect(c.ranking.candidates.map((x) => [x.name, x.eligible])).toEqual([
      ['db3', true],
      ['db2', true],
    ]);
    expect(c.ranking.candidates[0].reasons).toEqual(['#1: rule neutral, lag unknown s']);
  });

  test('every replica must_not: refused, naming each host and its reason', () => {
    const c = choose(even(), {
      hosts: hosts({ db2: { promotion: 'must_not' }, db3: { promotion: 'must_not' } }),
    });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.refusal).toBe(
      'no replica of db1 may be promoted: db2: promotion rule must_not; db3: promotion rule must_not; fix the promotion rules or the replicas, or recover by hand',
    );
  });

  test('the deny list excludes the most advanced replica; the next one is chosen', () => {
    const nodes = deadPrimary({ db2: { executed: '0-1-105' }, db3: { executed: '0-1-100' } });
    expect(choose(nodes, { policy: { deny: ['db2'] } })).toMatchObject({ ok: true, candidate: 'db3' });
    expect(choose(nodes, { policy: { allow: ['db3'] } })).toMatchObject({ ok: true, candidate: 'db3' });
  });

  test('deny and allow together can exclude everyone: refused with both reasons', () => {
    const c = choose(even(), { policy: { deny: ['db2'], allow: ['db2'] } });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.refusal).toMatch(
      /^no replica of db1 may be promoted: db2: on the policy deny list; db3: not on the policy allow list; /,
    );
  });

  test('an unreachable replica is not chosen, even when it was the most advanced', () => {
    const nodes = deadPrimary({ db2: { executed: '0-1-105' }, db3: { executed: '0-1-100' } }).map((n) =>
      n.name === 'db2' ? { ...n, reachable: false, error: 'timeout' } : n,
    );
    expect(choose(nodes)).toMatchObject({ ok: true, candidate: 'db3' });
  });

  test('no other host discovered: refused, saying so', () => {
    const [db1] = even();
    const c = choose([db1], { hosts: hosts({}, 2) });
    expect(c).toMatchObject({ ok: false, ranking: { candidates: [] } });
    if (c.ok) return;
    expect(c.refusal).toBe(
      'no replica of db1 may be promoted: the cluster has no other host; fix the promotion rules or the replicas, or recover by hand',
    );
  });
});

describe('errant transactions and policy errantGtids', () => {
  // db2 is the most advanced and once took a local write (server 2): errant, nobody else has it.
  const errantBest = () =>
    deadPrimary({ db2: { executed: '0-1-105', history: '0-1-105,0-2-7' }, db3: { executed: '0-1-100' } });

  test('abort (the default): errant GTIDs on the best candidate refuse, listing them', () => {
    const c = choose(errantBest());
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.refusal).toBe(
      'db2 has errant transactions that no other replica has and the dead primary did not write: 0-2-7 (no other has anything from server 2 in domain 0): promoting db2 would ship them to every replica (and break replication if they are gone from its binary logs); remove them or choose another candidate, or set policy errantGtids: ignore',
    );
    expect(c.errant.find((r) => r.name === 'db2')).toMatchObject({ errant: true, gtids: expect.any(String) });
  });

  test('abort, MySQL: the refusal lists the errant GTID set and its count', () => {
    const nodes = deadPrimary(
      { db2: { executed: `${U1}:1-105,\n${U2}:1-3` }, db3: { executed: `${U1}:1-100` } },
      'mysql',
    );
    const c = choose(nodes, { flavor: 'mysql' });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.refusal).toMatch(
      new RegExp(
        `^db2 has 3 errant transactions .*: ${U2}:1-3: promoting db2 would ship them to every replica`,
      ),
    );
  });

  test('ignore: the best candidate is chosen anyway, with a warning naming the GTIDs', () => {
    const c = choose(errantBest(), { policy: { errantGtids: 'ignore' } });
    expect(c).toMatchObject({ ok: true, candidate: 'db2' });
    expect(c.warnings).toEqual([
      'db2 has errant transactions that no other replica has and the dead primary did not write: 0-2-7 (no other has anything from server 2 in domain 0); promoted anyway (policy errantGtids: ignore)',
    ]);
  });

  test('errant GTIDs on another replica: the clean best is chosen, with a warning about the other', () => {
    const nodes = deadPrimary(
      { db2: { executed: `${U1}:1-105` }, db3: { executed: `${U1}:1-100,${U3}:1` } },
      'mysql',
    );
    const c = choose(nodes, { flavor: 'mysql' });
    expect(c).toMatchObject({ ok: true, candidate: 'db2' });
    expect(c.warnings).toEqual([
      `db3 has 1 errant transaction that no other replica has and the dead primary did not write: ${U3}:1; it will be repointed as it is and must not be promoted before they are removed`,
    ]);
  });
});
