import { gtidOps } from '../../domain/gtid';
import { preflightPlanned, type LongTransaction, type PlannedRequest } from '../../domain/planned/preflight';
import { findPrimary, type Topology } from '../../domain/topology';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const gtid = gtidOps('mariadb');
function run(
  request: PlannedRequest,
  t: Topology = topology(),
  longTransactions: LongTransaction[] = [],
  c = cluster(),
) {
  return preflightPlanned({ cluster: c, topology: t, request, longTransactions, gtid });
}
function refusals(...args: Parameters<typeof run>): string[] {
  const r = run(...args);
  if (r.ok) throw new Error('expected a refusal');
  return r.refusals;
}

describe('planned successover preflight', () => {
  test('a healthy cluster and a target: go', () => {
    const r = run({ target: 'db3' });
    expect(r).toEqual({
      ok: true,
      decision: { primary: 'db1', target: 'db3', ranking: undefined, warnings: [], forced: [], pair: false },
    });
  });

  test('without a target the ranking chooses and is kept', () => {
    const r = run({}, topology({ db2: { gtidExecuted: '0-1-98' } }));
    if (!r.ok) throw new Error(r.refusals.join());
    expect(r.decision.target).toBe('db3');
    expect(r.decision.ranking?.candidates.map((c) => c.name)).toEqual(['db3', 'db2']);
  });

  test('a stale inventory primary is a warning, not a refusal: runbooks move the primary', () => {
    const r = run({ target: 'db3' }, topology(), [], cluster({ primary: 'db2' }));
    expect(r.ok && r.decision.warnings).toEqual([
      'the inventory names db2 as primary; db1 is the writable node now',
    ]);
  });

  test('target is the primary', () => {
    expect(refusals({ target: 'db1' })).toEqual(['db1 is already the primary: choose one of the replicas']);
  });

  test('target unknown', () => {
    expect(refusals({ target: 'db9' })).toEqual(['unknown target "db9": cluster r2d2 has db1, db2, db3']);
  });

  test('target replication stopped or failing', () => {
    expect(
      refusals(
        { target: 'db2' },
        topology({ db2: { replication: replicaOf('db1', { sqlRunning: false }) } }),
      ),
    ).toEqual(["db2's SQL thread is stopped: fix replication on the target first"]);
    expect(
      refusals(
        { target: 'db2' },
        topology({ db2: { replication: replicaOf('db1', { ioRunning: 'no', ioError: 'Access denied' }) } }),
      )[0],
    ).toMatch(/^db2's IO thread failed: Access denied/);
    expect(refusals({ target: 'db2' }, topology({ db2: { replication: replicaOf('db3') } }))[0]).toMatch(
      /^db2 replicates from db3, not from db1/,
    );
  });

  test('lag beyond maxLagSeconds is refused; force overrides and records it', () => {
    const t = topology({ db2: { replication: replicaOf('db1', { lagSeconds: 30 }) } });
    expect(refusals({ target: 'db2' }, t)).toEqual([
      'db2 lags 30 s behind db1, more than maxLagSeconds 5: wait for it to catch up (force overrides this check)',
    ]);
    expect(run({ target: 'db2', maxLagSeconds: 60 }, t).ok).toBe(true);
    const forced = run({ target: 'db2', force: true }, t);
    expect(forced.ok && forced.decision.forced).toEqual([
      'db2 lags 30 s behind db1, more than maxLagSeconds 5: wait for it to catch up',
    ]);
  });

  test('errant GTIDs on the target are refused, even with force', () => {
    const t = topology({ db2: { gtidExecuted: '0-1-100,0-2-3', gtidHistory: '0-1-100,0-2-3' } });
    const r = refusals({ target: 'db2', force: true }, t);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(/^db2 has errant transactions \(.*0-2-3.*\)/);
  });

  test('two writable nodes are refused, even with force', () => {
    expect(refusals({ target: 'db3', force: true }, topology({ db2: { readOnly: false } }))).toEqual([
      '2 writable nodes (db1, db2): resolve the split brain (set read_only=1 on all but the real primary) before any runbook',
    ]);
  });

  test('no writable node names the unreachable ones', () => {
    expect(findPrimary(cluster(), topology({ db1: { reachable: false, readOnly: undefined } }))).toEqual({
      refusal:
        'no writable node (unreachable: db1): if the primary is dead run emergency recovery; if all are read-only, make the primary writable first',
    });
  });

  test('a long transaction on the primary is refused unless forced', () => {
    const long = [{ connectionId: 42, user: 'app', seconds: 300 }];
    expect(refusals({ target: 'db2' }, topology(), long)[0]).toMatch(
      /open 300 s on db1 \(connection 42, user app\), over 60 s/,
    );
    expect(run({ target: 'db2', force: true }, topology(), long).ok).toBe(true);
  });

  test('an older target version is refused', () => {
    expect(refusals({ target: 'db2' }, topology({ db2: { version: '10.6.18-MariaDB' } }))).toEqual([
      "db2 runs 10.6.18-MariaDB, older than db1's 10.11.6-MariaDB: promoting it would downgrade the primary; upgrade it first",
      "db2 runs 10.6.18-MariaDB, older than db3's 10.11.6-MariaDB: promoting it would downgrade the primary; upgrade it first",
    ]);
  });

  test('an unreachable replica refuses the planned run', () => {
    expect(refusals({ target: 'db2' }, topology({ db3: { reachable: false, error: 'timeout' } }))).toEqual([
      'db3 is unreachable (timeout): a planned successover needs every node',
    ]);
  });

  test('must_not target refused; a broken other replica is a warning', () => {
    const c = cluster({
      hosts: [1, 2, 3].map((i) => ({
        name: `db${i}`,
        address: `h${i}`,
        promotion: i === 2 ? 'must_not' : 'neutral',
      })),
    });
    expect(refusals({ target: 'db2' }, topology(), [], c)).toEqual(['db2 has promotion rule must_not']);
    const r = run(
      { target: 'db2' },
      topology({ db3: { replication: replicaOf('db1', { sqlRunning: false }) } }),
    );
    expect(r.ok && r.decision.warnings).toEqual([
      "db3's SQL thread is stopped; it will be repointed to db2 as it is",
    ]);
  });
});
