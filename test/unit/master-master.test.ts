import { renderTree } from '../../cli/commands/topology';
import { gtidOps } from '../../domain/gtid';
import { invariantReport } from '../../domain/invariants';
import { preflightPlanned } from '../../domain/planned/preflight';
import {
  autoIncrementWarning,
  pairDisagreements,
  standbyOf,
  toView,
  type NodeState,
  type Topology,
} from '../../domain/topology';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const mariadb = gtidOps('mariadb');
const node = (t: Topology, name: string) => t.nodes.find((n) => n.name === name) as NodeState;

/** db1 writes and replicates from db2, which replicates from db1. */
function pair(patch: Record<string, Partial<NodeState>> = {}): Topology {
  return topology(
    {
      db1: { serverId: 1, replication: replicaOf('db2'), ...patch.db1 },
      db2: { serverId: 2, ...patch.db2 },
    },
    2,
  );
}

describe('recognizing a master-master pair', () => {
  test('the writer replicating from a node that replicates from it is a pair', () => {
    expect(standbyOf(pair(), 'db1')).toBe('db2');
  });
  test('a broken direction is still a pair (a broken one)', () => {
    const t = pair({ db1: { replication: replicaOf('db2', { ioRunning: 'no', ioError: 'refused' }) } });
    expect(standbyOf(t, 'db1')).toBe('db2');
  });
  test('no pair when the writer replicates from no one, or from a node not replicating from it', () => {
    expect(standbyOf(topology({}, 2), 'db1')).toBeNull();
    const chain = topology({
      db1: { replication: replicaOf('db3') },
      db3: { replication: replicaOf('db2') },
    });
    expect(standbyOf(chain, 'db1')).toBeNull();
  });
});

describe('pair disagreements', () => {
  test('a healthy pair agrees, the writer ahead with its own writes (lag) included', () => {
    const t = pair({ db1: { gtidHistory: '0-1-120' } });
    expect(pairDisagreements(node(t, 'db1'), node(t, 'db2'), mariadb)).toEqual([]);
  });
  test('a broken direction is named', () => {
    const t = pair({ db1: { replication: replicaOf('db2', { sqlRunning: false, sqlError: 'Duplicate' }) } });
    expect(pairDisagreements(node(t, 'db1'), node(t, 'db2'), mariadb)).toEqual([
      "master-master pair db1 <-> db2: db1's SQL thread failed: Duplicate",
    ]);
  });
  test('a write on the standby is refused with its GTID', () => {
    const t = pair({ db2: { gtidHistory: '0-1-100,0-2-7' } });
    const [problem] = pairDisagreements(node(t, 'db1'), node(t, 'db2'), mariadb);
    expect(problem).toMatch(/standby db2 holds what the writer db1 lacks .*0-2-7/);
  });
  test('the writer holding another origin its standby lacks is refused', () => {
    const t = pair({ db1: { gtidHistory: '0-1-100,0-3-9' } });
    const [problem] = pairDisagreements(node(t, 'db1'), node(t, 'db2'), mariadb);
    expect(problem).toMatch(/writer db1 holds transactions of other origins .*0-3-9/);
  });
  test('MySQL: the writer own uuid is lag, another uuid is a disagreement', () => {
    const U1 = '11111111-1111-1111-1111-111111111111';
    const U2 = '22222222-2222-2222-2222-222222222222';
    const mysql = gtidOps('mysql');
    const t = pair({
      db1: { serverUuid: U1, gtidHistory: `${U1}:1-120` },
      db2: { serverUuid: U2, gtidHistory: `${U1}:1-100` },
    });
    expect(pairDisagreements(node(t, 'db1'), node(t, 'db2'), mysql)).toEqual([]);
    const other = pair({
      db1: { serverUuid: U1, gtidHistory: `${U1}:1-120,${U2}:1-3` },
      db2: { serverUuid: U2, gtidHistory: `${U1}:1-100,${U2}:1-2` },
    });
    expect(pairDisagreements(node(other, 'db1'), node(other, 'db2'), mysql)[0]).toMatch(`${U2}:3`);
  });
});

describe('auto_increment on a pair', () => {
  test('equal settings are a warning, different offsets are not', () => {
    const same = { increment: 1, offset: 1 };
    const t = pair({ db1: { autoIncrement: same }, db2: { autoIncrement: same } });
    expect(autoIncrementWarning(node(t, 'db1'), node(t, 'db2'))).toMatch(/share auto_increment_increment=1/);
    const apart = pair({
      db1: { autoIncrement: { increment: 2, offset: 1 } },
      db2: { autoIncrement: { increment: 2, offset: 2 } },
    });
    expect(autoIncrementWarning(node(apart, 'db1'), node(apart, 'db2'))).toBeNull();
  });
});

describe('invariants on a pair', () => {
  const check = (t: Topology, pairedWith?: string) =>
    invariantReport({ topology: t, primary: 'db1', trafficHolders: ['db1'], pairedWith }).violations;
  test('the writer replicating from its standby is healthy', () => {
    expect(check(pair(), 'db2')).toEqual([]);
  });
  test('a writer replicating outside a pair is a violation', () => {
    const t = topology({ db1: { replication: replicaOf('db3') }, db3: { replication: replicaOf('db2') } });
    expect(check(t)).toContainEqual(
      expect.stringMatching(/writer db1 replicates from db3: outside a master-master pair/),
    );
  });
  test('a pair that lost its way back is a violation when a pair is expected', () => {
    expect(check(topology({}, 2), 'db2')).toEqual([
      expect.stringMatching(/pair is broken: db1 replicates from no one, expected from its standby db2/),
    ]);
    expect(check(topology({}, 2))).toEqual([]);
  });
  test('a stopped direction of the pair is a violation', () => {
    const t = pair({ db1: { replication: replicaOf('db2', { sqlRunning: false }) } });
    expect(check(t, 'db2')).toEqual(["master-master pair db1 <-> db2: db1's SQL thread is stopped"]);
  });
});

describe('planned preflight on a pair', () => {
  const preflight = (t: Topology, target?: string) =>
    preflightPlanned({
      cluster: cluster({}, 2),
      topology: t,
      request: { target },
      longTransactions: [],
      gtid: mariadb,
    });
  test('the standby is the target without asking, and the decision says pair', () => {
    const r = preflight(pair());
    expect(r).toMatchObject({ ok: true, decision: { primary: 'db1', target: 'db2', pair: true } });
  });
  test('a non-pair says pair: false', () => {
    expect(preflight(topology({}, 2))).toMatchObject({ ok: true, decision: { pair: false } });
  });
  test('disagreeing sides are refused with the reason', () => {
    const r = preflight(pair({ db2: { gtidHistory: '0-1-100,0-2-7' } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.refusals.join('\n')).toMatch(/standby db2 holds what the writer db1 lacks/);
  });
  test('a writer replicating from a plain replica is refused', () => {
    const t = topology({ db1: { replication: replicaOf('db3') }, db3: { replication: replicaOf('db2') } });
    const r = preflightPlanned({
      cluster: cluster(),
      topology: t,
      request: { target: 'db2' },
      longTransactions: [],
      gtid: mariadb,
    });
    expect(!r.ok && r.refusals.join('\n')).toMatch(
      /outside a master-master pair a writer must not replicate/,
    );
  });
  test('equal auto_increment settings warn, never refuse', () => {
    const same = { increment: 1, offset: 1 };
    const r = preflight(pair({ db1: { autoIncrement: same }, db2: { autoIncrement: same } }));
    expect(r.ok && r.decision.warnings.join('\n')).toMatch(/auto_increment_offset=1/);
  });
});

describe('topology tree of a pair', () => {
  test('the writer line names its standby with <->', () => {
    const t = pair();
    const lines = renderTree({ topology: t, trafficHolders: ['db1'], view: t.nodes.map(toView) }, 'db1');
    expect(lines.split('\n')).toEqual([
      'db1 [primary,rw,10.11.6-MariaDB,io:yes,sql:yes,lag:0s,writer-traffic] <-> db2',
      '  + db2 [replica,ro,10.11.6-MariaDB,io:yes,sql:yes,lag:0s]',
    ]);
  });
});
