// decideRejoin: whether a fenced node may rejoin the primary, and whether as its master-master standby.
import type { NodeState, Topology } from '../../domain/topology';
import { decideRejoin } from '../../domain/rejoin';
import { cluster, replicaOf, topology } from './decisions.fixtures';

/**
 * After an emergency recovery: db2 was promoted (writable, replicates from no one), db3 replicates
 * from it, db1 is back fenced (read-only) and still names db2 as its source (a pair's side).
 */
function recovered(patch: Record<string, Partial<NodeState>> = {}): Topology {
  return topology({
    db1: { readOnly: true, replication: replicaOf('db2', { ioRunning: 'no' }), ...patch.db1 },
    db2: { readOnly: false, replication: null, ...patch.db2 },
    db3: { replication: replicaOf('db2'), ...patch.db3 },
  });
}

const decide = (t: Topology, host = 'db1', pair?: boolean) =>
  decideRejoin({ cluster: cluster(), topology: t, host, ...(pair === undefined ? {} : { pair }) });

describe('rejoin: refused', () => {
  test('an unknown host, naming the hosts the cluster has', () => {
    expect(decide(recovered(), 'db9')).toEqual({
      ok: false,
      refusals: ['unknown host "db9": cluster r2d2 has db1, db2, db3'],
    });
  });

  test('the host is the primary', () => {
    expect(decide(recovered(), 'db2')).toEqual({
      ok: false,
      refusals: ['db2 is the primary: rejoin takes back a fenced node, not the writer'],
    });
  });

  test('the host is unreachable: start its server first', () => {
    const t = recovered({ db1: { reachable: false, readOnly: undefined, error: 'connect ECONNREFUSED' } });
    expect(decide(t)).toEqual({
      ok: false,
      refusals: ['db1 is unreachable (connect ECONNREFUSED): start its server first, then rejoin it'],
    });
  });

  test('two writers (the host came back writable): the split brain first', () => {
    const r = decide(recovered({ db1: { readOnly: false } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.refusals).toEqual([
      expect.stringMatching(/^2 writable nodes \(db1, db2\): resolve the split brain/),
    ]);
  });

  test('no writer at all: no primary to rejoin', () => {
    const r = decide(recovered({ db2: { readOnly: true } }));
    expect(!r.ok && r.refusals).toEqual([expect.stringMatching(/^no writable node/)]);
  });

  test('the primary replicates from a third node: refused, with --pair too', () => {
    const t = recovered({ db2: { replication: replicaOf('db3') } });
    const refusal = [
      "the primary db2 replicates from db3: it cannot also be db1's pair; stop that replication first",
    ];
    expect(decide(t)).toEqual({ ok: false, refusals: refusal });
    expect(decide(t, 'db1', true)).toEqual({ ok: false, refusals: refusal });
  });
});

describe('rejoin: a pair or not', () => {
  test("a pair, read from the host's configured source: it names the primary, which replicates from no one", () => {
    expect(decide(recovered())).toEqual({
      ok: true,
      primary: 'db2',
      pair: true,
      pairReason: 'a pair: db1 still names db2 as its source (its way back before the failure)',
    });
  });

  test('a pair still whole (the primary replicates from the host) stays a pair', () => {
    const r = decide(recovered({ db2: { replication: replicaOf('db1') } }));
    expect(r).toMatchObject({ ok: true, primary: 'db2', pair: true });
  });

  test('the host replicates from no one: not a pair', () => {
    expect(decide(recovered({ db1: { replication: null } }))).toEqual({
      ok: true,
      primary: 'db2',
      pair: false,
      pairReason: 'not a pair: db1 replicates from no one',
    });
  });

  test('the host replicates from another replica: not a pair', () => {
    expect(decide(recovered({ db1: { replication: replicaOf('db3') } }))).toEqual({
      ok: true,
      primary: 'db2',
      pair: false,
      pairReason: 'not a pair: db1 replicates from db3',
    });
  });

  test('--pair makes a pair of a host that replicates from no one', () => {
    expect(decide(recovered({ db1: { replication: null } }), 'db1', true)).toEqual({
      ok: true,
      primary: 'db2',
      pair: true,
      pairReason: 'a pair: --pair',
    });
  });

  test('--no-pair: a plain replica, though the host names the primary', () => {
    expect(decide(recovered(), 'db1', false)).toEqual({
      ok: true,
      primary: 'db2',
      pair: false,
      pairReason: 'not a pair: --no-pair',
    });
  });
});
