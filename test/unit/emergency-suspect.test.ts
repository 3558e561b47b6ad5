import { EmergencyRecoveryInputSchema } from '../../domain/runbook';
import type { InspectResult } from '../../domain/topology';
import { suspectedPrimary } from '../../domain/emergency';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const DOWN = { reachable: false, readOnly: undefined, error: 'connect ECONNREFUSED 10.0.0.11:3306' };
const cut = (source = 'db1') =>
  replicaOf(source, { ioRunning: 'connecting', ioError: "Can't connect", lagSeconds: null });
const seen = (patch: Parameters<typeof topology>[0]): InspectResult => ({
  topology: topology(patch),
  trafficHolders: null,
  view: [],
  relay: {},
});
const suspect = (input: { primary?: string } = {}, at = seen({ db1: DOWN }), overrides = {}) =>
  suspectedPrimary(EmergencyRecoveryInputSchema.parse({ cluster: 'r2d2', ...input }), cluster(overrides), at);

describe('which primary an emergency recovery suspects', () => {
  test('the named primary, when it is a host of the cluster', () => {
    expect(suspect({ primary: 'db2' })).toEqual({ primary: 'db2' });
  });

  test('a named primary that is not a host is refused, listing the hosts', () => {
    expect(suspect({ primary: 'db9' })).toEqual({
      refusal: 'primary "db9" is not a host of r2d2: expected one of db1, db2, db3',
    });
  });

  test('unnamed: the node the replicas replicate from', () => {
    expect(suspect({}, seen({ db1: DOWN, db2: { replication: cut() } }))).toEqual({ primary: 'db1' });
  });

  test('unnamed, the replicas disagree: refused, asking to name it', () => {
    const at = seen({
      db1: DOWN,
      db2: { replication: cut('db1') },
      db3: { replication: cut('10.9.9.9:3306') },
    });
    const r = suspect({}, at);
    expect('refusal' in r && r.refusal).toMatch(
      /^the replicas do not agree on the primary: .*name the primary explicitly$/,
    );
  });

  test("no reachable replica: the inventory's primary hint, else refused", () => {
    const alone = seen({ db1: DOWN, db2: DOWN, db3: DOWN });
    expect(suspect({}, alone, { primary: 'db1' })).toEqual({ primary: 'db1' });
    expect(suspect({}, alone)).toEqual({
      refusal: 'no reachable replica: nothing tells which node was the primary',
    });
  });
});
