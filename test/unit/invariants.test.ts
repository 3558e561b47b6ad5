import { checkInvariants } from '../../domain/invariants';
import { replicaOf, topology } from './decisions.fixtures';

describe('invariants', () => {
  test('a healthy cluster holds them', () => {
    expect(checkInvariants({ topology: topology(), primary: 'db1', trafficHolders: ['db1'] })).toEqual([]);
    expect(checkInvariants({ topology: topology(), primary: 'db1', trafficHolders: null })).toEqual([]);
  });
  test('two writers, traffic elsewhere, a broken replica', () => {
    const t = topology({
      db2: { readOnly: false },
      db3: { replication: replicaOf('db1', { sqlRunning: false }) },
    });
    expect(checkInvariants({ topology: t, primary: 'db1', trafficHolders: ['db1', 'db2'] })).toEqual([
      'expected exactly one writable node, db1; found db1, db2',
      'expected the writer traffic on db1 only; it is on db1, db2',
      "db3's SQL thread is stopped",
    ]);
  });
  test('an excluded (fenced) node is not held to them', () => {
    const t = topology({
      db1: { reachable: false },
      db2: { readOnly: false, replication: null },
      db3: { replication: replicaOf('db2') },
    });
    expect(
      checkInvariants({ topology: t, primary: 'db2', trafficHolders: ['db2'], excluded: ['db1'] }),
    ).toEqual([]);
  });
});
