// Draining a machine: which primaries move, to which replicas, and when the drain is refused.
import { clustersOnMachine, drainPlan, knownMachines, type DrainFacts } from '../../domain/fleet';
import { machineOf } from '../../domain/inventory';
import { fleet } from './fleet.fixtures';

// hv1 runs c1's primary (replicas elsewhere), c2's primary and its only healthy replica, c3's
// replica only, c4's primary whose replica elsewhere is unhealthy, and c5 whose primary is unknown.
const inv = fleet([
  { name: 'c1', hosts: { db1: 'hv1', db2: 'hv2', db3: 'hv3' } },
  { name: 'c2', hosts: { db1: 'hv1', db2: 'hv1', db3: 'hv2' } },
  { name: 'c3', hosts: { db1: 'hv2', db2: 'HV1' } }, // machines compare without case
  { name: 'c4', hosts: { db1: 'hv1', db2: 'hv4' } },
  { name: 'c5', hosts: { db1: 'hv1', db2: 'hv4' } },
  { name: 'elsewhere', hosts: { db1: 'hv8', db2: 'hv9' } },
]);

const facts: DrainFacts[] = [
  { cluster: 'c1', primary: 'db1', healthyReplicas: ['db3', 'db2'] },
  { cluster: 'c2', primary: 'db1', healthyReplicas: ['db2'] },
  { cluster: 'c3', primary: 'db1', healthyReplicas: ['db2'] },
  { cluster: 'c4', primary: 'db1', healthyReplicas: [] },
  { cluster: 'c5', healthyReplicas: ['db2'] },
  { cluster: 'elsewhere', primary: 'db1', healthyReplicas: ['db2'] },
];

test('clustersOnMachine: clusters with any host there, in inventory order', () => {
  expect(clustersOnMachine(inv, 'hv1')).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  expect(clustersOnMachine(inv, 'hv4')).toEqual(['c4', 'c5']);
  expect(clustersOnMachine(inv, 'hv7')).toEqual([]);
});

test('a host without machine: runs on its address', () => {
  const plain = fleet([{ name: 'p', hosts: { db1: undefined, db2: 'hv1' } }]);
  const db1 = plain.clusters[0]!.hosts[0]!;
  expect(machineOf(db1)).toBe(db1.address);
  expect(clustersOnMachine(plain, db1.address)).toEqual(['p']);
});

test('the plan moves primaries to healthy replicas elsewhere and refuses the rest with the reason', () => {
  const plan = drainPlan(inv, 'hv1', facts);
  expect(plan.problems).toEqual([]);
  expect(plan.move).toEqual([{ cluster: 'c1', from: 'db1', candidates: ['db3', 'db2'] }]);
  expect(plan.replicasOnly).toEqual([{ cluster: 'c3', hosts: ['db2'] }]);
  expect(plan.refused).toEqual([
    {
      cluster: 'c2',
      reason:
        'primary db1 runs on hv1 and no healthy replica runs on another machine (db2 is healthy but on hv1 too): provision a replica on another machine, or fix replication, then drain again',
    },
    {
      cluster: 'c4',
      reason:
        'primary db1 runs on hv1 and no healthy replica runs on another machine (no replica is healthy): provision a replica on another machine, or fix replication, then drain again',
    },
    {
      cluster: 'c5',
      reason:
        'no primary found (db1 runs on hv1): check the cluster with successover topology --cluster c5, then drain again',
    },
  ]);
});

test('facts that name hosts the inventory lacks: such a replica is no candidate, such a primary refused', () => {
  const plan = drainPlan(inv, 'hv1', [
    { cluster: 'c1', primary: 'db1', healthyReplicas: ['db9', 'db2', 'db1'] },
    { cluster: 'c4', primary: 'db7', healthyReplicas: ['db2'] },
  ]);
  expect(plan.move).toEqual([{ cluster: 'c1', from: 'db1', candidates: ['db2'] }]);
  expect(plan.refused.find((r) => r.cluster === 'c4')?.reason).toBe(
    'the facts name primary db7, which cluster c4 does not have in the inventory: discover again',
  );
  // No facts at all for a cluster: its primary is not known.
  expect(plan.refused.map((r) => r.cluster)).toEqual(['c2', 'c3', 'c4', 'c5']);
});

test('an unknown machine is refused, naming the known machines', () => {
  const plan = drainPlan(inv, 'hv7', facts);
  expect(plan.move).toEqual([]);
  expect(plan.problems).toEqual([
    'unknown machine "hv7": no host of the inventory runs on it (a host\'s machine is its machine: field, else its address); known machines: hv1, hv2, hv3, hv4, hv8, hv9',
  ]);
});

test('the list of known machines is cut at 20', () => {
  const big = fleet(
    Array.from({ length: 15 }, (_, i) => ({
      name: `k${i}`,
      hosts: { a: `m${String(2 * i).padStart(2, '0')}`, b: `m${String(2 * i + 1).padStart(2, '0')}` },
    })),
  );
  expect(knownMachines(big)).toHaveLength(30);
  expect(drainPlan(big, 'nope', []).problems[0]).toMatch(/known machines: m00, m01, .*, m19 and 10 more$/);
});

test('a machine that runs only replicas: nothing to drain', () => {
  const plan = drainPlan(inv, 'hv3', facts);
  expect(plan.problems).toEqual([
    'no primary runs on hv3: nothing to drain (its hosts are replicas: c1/db3)',
  ]);
  expect(plan.replicasOnly).toEqual([{ cluster: 'c1', hosts: ['db3'] }]);
});

test('machine names compare without case', () => {
  const plan = drainPlan(inv, 'HV2', [
    { cluster: 'c3', primary: 'db1', healthyReplicas: ['db2'] },
    { cluster: 'c1', primary: 'db1', healthyReplicas: ['db2'] },
    { cluster: 'c2', primary: 'db1', healthyReplicas: ['db3'] },
  ]);
  expect(plan.move).toEqual([{ cluster: 'c3', from: 'db1', candidates: ['db2'] }]);
  expect(plan.replicasOnly.map((r) => r.cluster)).toEqual(['c1', 'c2']);
});
