// A planned successover restricted by drain-host: candidates and the machine being drained, in the
// ranking, for an explicit target and for a master-master pair's standby.
import { gtidOps } from '../../domain/gtid';
import { preflightPlanned, type PlannedRequest } from '../../domain/planned/preflight';
import { restrictionReason, restrictRanking } from '../../domain/planned/restrict';
import { rankCandidates } from '../../domain/ranking';
import type { Topology } from '../../domain/topology';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const gtid = gtidOps('mariadb');
/** db1 and db2 share machine m1; db3 is alone on m2 (the inventory's `machine`). */
const onMachines = () =>
  cluster({
    hosts: [
      { name: 'db1', address: '10.0.0.11', machine: 'm1' },
      { name: 'db2', address: '10.0.0.12', machine: 'm1' },
      { name: 'db3', address: '10.0.0.13', machine: 'm2' },
    ],
  });

function run(request: PlannedRequest, t: Topology = topology(), c = onMachines()) {
  return preflightPlanned({ cluster: c, topology: t, request, longTransactions: [], gtid });
}

describe('restrictionReason', () => {
  test('a host on the avoided machine, by `machine` or, without one, by its address', () => {
    expect(restrictionReason(onMachines(), 'db2', { avoidMachine: 'm1' })).toBe(
      'on machine m1, which this run moves the primary off',
    );
    expect(restrictionReason(onMachines(), 'db3', { avoidMachine: 'm1' })).toBeUndefined();
    // No `machine` field: the address is the machine.
    expect(restrictionReason(cluster(), 'db2', { avoidMachine: '10.0.0.12' })).toMatch(
      /^on machine 10.0.0.12/,
    );
    expect(restrictionReason(cluster(), 'db3', { avoidMachine: '10.0.0.12' })).toBeUndefined();
  });

  test('a host outside the candidates; no restriction, no reason', () => {
    expect(restrictionReason(onMachines(), 'db2', { candidates: ['db3'] })).toBe(
      'not among the candidates (db3)',
    );
    expect(restrictionReason(onMachines(), 'db3', { candidates: ['db3'] })).toBeUndefined();
    expect(restrictionReason(onMachines(), 'db2', {})).toBeUndefined();
  });
});

describe('restrictRanking', () => {
  // db2 ranks first (more advanced); db3 second.
  const t = topology({ db3: { gtidExecuted: '0-1-98' } });
  const ranking = () => rankCandidates({ cluster: onMachines(), primary: 'db1', nodes: t.nodes, gtid });

  test('the best candidate on the avoided machine is passed over for the next one', () => {
    expect(ranking().best).toBe('db2');
    const r = restrictRanking(onMachines(), ranking(), { avoidMachine: 'm1' });
    expect(r.best).toBe('db3');
    expect(r.candidates.map((c) => [c.name, c.eligible, c.reasons[0]])).toEqual([
      ['db3', true, '#2: rule neutral, lag 0 s'],
      ['db2', false, 'on machine m1, which this run moves the primary off'],
    ]);
  });

  test('nothing allowed: no best (the preflight then refuses, listing why)', () => {
    expect(restrictRanking(onMachines(), ranking(), { candidates: ['db9'] }).best).toBeUndefined();
  });

  test('no restriction: the ranking as it was', () => {
    const r = ranking();
    expect(restrictRanking(onMachines(), r, {})).toBe(r);
  });
});

describe('planned preflight with a restriction', () => {
  test('ranked: the target is never on the drained machine', () => {
    const r = run({ avoidMachine: 'm1' }, topology({ db3: { gtidExecuted: '0-1-98' } }));
    expect(r.ok && r.decision.target).toBe('db3');
  });

  test('ranked: only the candidates', () => {
    const r = run({ candidates: ['db3'] });
    expect(r.ok && r.decision.target).toBe('db3');
  });

  test('no candidate left: refused, each host with its reason', () => {
    const r = run({ candidates: ['db2'], avoidMachine: 'm1' });
    expect(r).toEqual({
      ok: false,
      refusals: [
        'no eligible candidate: db2 (on machine m1, which this run moves the primary off), db3 (not among the candidates (db2))',
      ],
    });
  });

  test('an explicit target on the drained machine is refused', () => {
    const r = run({ target: 'db2', avoidMachine: 'm1' });
    expect(r).toEqual({
      ok: false,
      refusals: [
        'the target db2 is on machine m1, which this run moves the primary off: choose another target',
      ],
    });
    expect(run({ target: 'db3', avoidMachine: 'm1' }).ok).toBe(true);
  });

  test('a pair whose standby is on the drained machine is refused: a pair switches only to its standby', () => {
    const pair = topology({ db1: { replication: replicaOf('db2') } });
    const r = run({ avoidMachine: 'm1' }, pair);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.refusals).toEqual([
      'db2, the master-master standby of db1 and the only target a pair switches to, is on machine m1, which this run moves the primary off: break the pair, or move it by hand',
    ]);
    expect(run({ avoidMachine: 'm2' }, pair).ok).toBe(true);
  });
});
