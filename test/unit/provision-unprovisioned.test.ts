// An unprovisioned node in the inventory: the other runbooks leave it alone and say so.
import { chooseCandidate, inferDeadPrimary } from '../../domain/emergency';
import { gtidOps } from '../../domain/gtid';
import { checkInvariants, invariantReport } from '../../domain/invariants';
import { preflightPlanned } from '../../domain/planned/preflight';
import { isUnprovisioned, notRepointed, UNPROVISIONED, unprovisionedNodes } from '../../domain/provision';
import { rankCandidates } from '../../domain/ranking';
import type { NodeState } from '../../domain/topology';
import { replicaOf } from './decisions.fixtures';
import { emptyNode, fourHosts, hostsWithSsh, withEmptyDb4 } from './provision.fixtures';

const gtid = gtidOps('mariadb');
const node = (more: Partial<NodeState>) => ({ ...(emptyNode() as NodeState), ...more });

describe('isUnprovisioned', () => {
  test('reachable, read-only, no replication, empty GTID state', () => {
    expect(isUnprovisioned(node({}))).toBe(true);
  });

  test.each<[string, Partial<NodeState>]>([
    ['unreachable', { reachable: false }],
    ['writable', { readOnly: false }],
    ['read-only unknown', { readOnly: undefined }],
    ['replication configured', { replication: replicaOf('db1', { ioRunning: 'no', sqlRunning: false }) }],
    ['has applied transactions', { gtidExecuted: '0-1-5' }],
    ['has written transactions (binlog state)', { gtidHistory: '0-4-1' }],
    ['GTID state unknown', { gtidExecuted: undefined, gtidHistory: undefined }],
  ])('not when %s', (_why, more) => {
    expect(isUnprovisioned(node(more))).toBe(false);
  });

  test('whitespace is empty (MySQL prints an empty set as "")', () => {
    expect(isUnprovisioned(node({ gtidExecuted: ' ', gtidHistory: '\n' }))).toBe(true);
  });

  test('unprovisionedNodes lists them', () => {
    expect(unprovisionedNodes(withEmptyDb4().nodes)).toEqual(['db4']);
  });
});

describe('candidate ranking excludes it', () => {
  test('with the reason, also when it would otherwise rank first', () => {
    const c = fourHosts({ hosts: hostsWithSsh({ db4: { promotion: 'must' } }) });
    const r = rankCandidates({ cluster: c, primary: 'db1', nodes: withEmptyDb4().nodes, gtid });
    expect(r.best).toBe('db2');
    expect(r.candidates.find((x) => x.name === 'db4')).toMatchObject({
      eligible: false,
      reasons: [UNPROVISIONED],
    });
  });

  test('emergency recovery never promotes it, and still infers the dead primary from the replicas', () => {
    const t = withEmptyDb4({ db1: { reachable: false, error: 'down' } });
    const choice = chooseCandidate({ cluster: fourHosts(), primary: 'db1', nodes: t.nodes, gtid });
    expect(choice).toMatchObject({ ok: true, candidate: 'db2' });
    expect(choice.ranking.candidates.find((x) => x.name === 'db4')?.reasons).toEqual([UNPROVISIONED]);
    expect(inferDeadPrimary(t.nodes)).toMatchObject({
      found: true,
      primary: 'db1',
      followers: ['db2', 'db3'],
    });
  });

  test('only unprovisioned replicas left: refused, naming why', () => {
    const t = withEmptyDb4({ db1: { reachable: false }, db2: emptyNode('db2'), db3: emptyNode('db3') });
    const choice = chooseCandidate({ cluster: fourHosts(), primary: 'db1', nodes: t.nodes, gtid });
    expect(choice.ok).toBe(false);
    if (!choice.ok) expect(choice.refusal).toContain(`db2: ${UNPROVISIONED}`);
  });
});

describe('planned successover', () => {
  const plan = (target?: string) =>
    preflightPlanned({
      cluster: fourHosts(),
      topology: withEmptyDb4(),
      request: { target },
      longTransactions: [],
      gtid,
    });

  test('refuses it as the target', () => {
    expect(plan('db4')).toEqual({
      ok: false,
      refusals: [`db4 is empty and replicates from no one (${UNPROVISIONED} first)`],
    });
  });

  test('goes on without it, warning that it is not repointed', () => {
    const r = plan();
    expect(r).toMatchObject({ ok: true, decision: { target: 'db2' } });
    if (r.ok) expect(r.decision.warnings).toEqual([notRepointed('db4', 'db2')]);
    expect(notRepointed('db4', 'db2')).toBe(
      'db4 is unprovisioned: run provision-replica; not repointed to db2 (an empty server pointed at a primary would try to replay its whole history)',
    );
  });
});

describe('invariants', () => {
  test('do not require it to replicate, and report it', () => {
    const t = withEmptyDb4();
    expect(checkInvariants({ topology: t, primary: 'db1', trafficHolders: ['db1'] })).toEqual([]);
    expect(invariantReport({ topology: t, primary: 'db1', trafficHolders: ['db1'] })).toEqual({
      violations: [],
      notes: [`db4 is ${UNPROVISIONED} (read-only, empty, replicates from no one)`],
    });
  });

  test('an empty node that is writable is a second writer, not unprovisioned', () => {
    const t = withEmptyDb4({ db4: emptyNode('db4', { readOnly: false }) });
    expect(checkInvariants({ topology: t, primary: 'db1', trafficHolders: null })).toEqual([
      'expected exactly one writable node, db1; found db1, db4',
      'db4 does not replicate',
    ]);
  });

  test('a node with data that replicates from no one is still a violation', () => {
    const t = withEmptyDb4({ db4: emptyNode('db4', { gtidExecuted: '0-1-100', gtidHistory: '0-1-100' }) });
    expect(checkInvariants({ topology: t, primary: 'db1', trafficHolders: null })).toEqual([
      'db4 does not replicate',
    ]);
  });
});
