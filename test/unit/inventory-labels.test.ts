// Cluster labels (what selectors choose by) and host machines (what a drain moves off).
import { machineOf, validateInventory } from '../../domain/inventory';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents mutated freely to break them
function doc(cluster: Record<string, any> = {}, host: Record<string, any> = {}): Record<string, any> {
  return {
    clusters: [
      {
        name: 'r2d2',
        flavor: 'mariadb',
        hosts: [
          { name: 'db1', address: '10.0.0.11', ...host },
          { name: 'db2', address: '10.0.0.12' },
        ],
        ...cluster,
      },
    ],
    credentials: {
      mysql: { user: 'successover', passwordEnv: 'SO_PW' },
      replication: { user: 'repl', passwordEnv: 'SO_REPL' },
    },
  };
}

const problems = (d: unknown) => {
  const r = validateInventory(d);
  if (r.ok) throw new Error('expected the inventory to be invalid');
  return r.problems;
};
const valid = (d: unknown) => {
  const r = validateInventory(d);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.inventory;
};

describe('labels', () => {
  test('are optional, and kept as written', () => {
    expect(valid(doc()).clusters[0]?.labels).toBeUndefined();
    const labels = { tier: 'gold', dc: 'eu-west-1', 'team.example.com/owner': 'dba_team', zone: 'a:1' };
    expect(valid(doc({ labels })).clusters[0]?.labels).toEqual(labels);
  });

  test.each([
    ['a b', 'expected a label name of letters, digits'],
    ['-x', 'expected a label name of letters, digits'],
    ['x-', 'expected a label name of letters, digits'],
    ['x*', 'expected a label name of letters, digits'],
    ['a'.repeat(64), 'at most 63 characters'],
    [
      'name',
      'reserved: selectors write name=GLOB for the cluster name and "all" for every cluster; rename the label',
    ],
    ['all', 'reserved: selectors write name=GLOB'],
  ])('label name %j is refused, naming it', (key, message) => {
    const p = problems(doc({ labels: { [key]: 'v' } }));
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(`clusters[0].labels: key ${JSON.stringify(key)}: `);
    expect(p[0]).toContain(message);
  });

  test.each([
    ['', '""'],
    ['a b', '"a b"'],
    ['x,y', '"x,y"'],
    ['x=y', '"x=y"'],
    ['eu*', '"eu*"'],
    ['-a', '"-a"'],
  ])('label value %j is refused, naming the label', (value, shown) => {
    expect(problems(doc({ labels: { dc: value } }))).toEqual([
      `clusters[0].labels.dc: expected a value of letters, digits, "_", ".", "/", ":" or "-", starting and ending with a letter or digit, at most 63 characters, got ${shown}`,
    ]);
  });

  test('a number or boolean value must be quoted: YAML would not keep 1.10 as written', () => {
    expect(problems(doc({ labels: { tier: 1, canary: true } }))).toEqual([
      'clusters[0].labels.tier: expected a string: quote a number or true/false, e.g. tier: "1", got 1',
      'clusters[0].labels.canary: expected a string: quote a number or true/false, e.g. tier: "1", got true',
    ]);
  });

  test('labels must be a mapping', () => {
    expect(problems(doc({ labels: ['gold'] }))[0]).toMatch(
      /^clusters\[0\]\.labels: expected record, got a list/,
    );
  });
});

describe('machine', () => {
  test('defaults to the address', () => {
    const h = valid(doc()).clusters[0]!.hosts[0]!;
    expect(h.machine).toBeUndefined();
    expect(machineOf(h)).toBe('10.0.0.11');
  });

  test.each(['hv12', 'hv12.example.com', 'rack3:slot4', '10.9.0.1'])('%j is a machine', (machine) => {
    expect(machineOf(valid(doc({}, { machine })).clusters[0]!.hosts[0]!)).toBe(machine);
  });

  test.each(['', 'hv 12', '-hv', 'hv/12'])('%j is refused with an example', (machine) => {
    expect(problems(doc({}, { machine }))).toEqual([
      `clusters[0].hosts[0].machine: expected the name of the physical machine or hypervisor the host runs on, e.g. hv12 or hv12.example.com (letters, digits, "_", ".", ":" or "-"), got ${JSON.stringify(machine)}`,
    ]);
  });
});
