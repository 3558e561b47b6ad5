// A host given in a provision run's input: a clash with the cluster is refused with the fix, the
// same entry given again is "present" (a retried run adds nothing twice).
import { ClusterSchema, HostSchema, type Cluster, type Host } from '../../domain/inventory';
import { checkNewHost, sameHostEntry } from '../../domain/provision/newHost';

const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G1';
const KEY2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G2';
const KEY4 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvXk0Zr1pZ0mJg7m0l6fYb3x1y2z3A4B5C6D7E8F9G4';

const cluster: Cluster = ClusterSchema.parse({
  name: 'r2d2',
  flavor: 'mariadb',
  hosts: [
    { name: 'db1', address: '10.0.0.11', ssh: { hostKey: KEY1 } },
    { name: 'db2', address: '10.0.0.12', ssh: { hostKey: KEY2 }, promotion: 'prefer' },
  ],
});
const host = (h: Record<string, unknown>): Host => HostSchema.parse(h);
const db4 = host({ name: 'db4', address: '10.0.0.14', ssh: { hostKey: KEY4 } });

describe('checkNewHost', () => {
  test('a new name at a new address with its own key is added', () => {
    expect(checkNewHost(cluster, db4)).toEqual({ ok: true, present: false });
  });

  test('the same entry as the inventory has is present: nothing to add', () => {
    // Defaults written out or left out make no difference.
    const same = host({
      name: 'db2',
      address: '10.0.0.12',
      port: 3306,
      ssh: { hostKey: KEY2, port: 22 },
      promotion: 'prefer',
    });
    expect(checkNewHost(cluster, same)).toEqual({ ok: true, present: true });
  });

  test('a known name with another entry is refused, naming both', () => {
    const r = checkNewHost(cluster, host({ name: 'db2', address: '10.0.0.22', ssh: { hostKey: KEY2 } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^db2 is already in cluster r2d2 with another entry \(10\.0\.0\.12:3306, .*the input says 10\.0\.0\.22:3306.*drop newHost/,
      ),
    ]);
  });

  test("another host's server, another host's SSH key, and no ssh where the others have it", () => {
    const r = checkNewHost(cluster, host({ name: 'db4', address: '10.0.0.11', ssh: { hostKey: KEY1 } }));
    expect(r).toEqual({
      ok: false,
      problems: [
        '10.0.0.11:3306 is db1 in cluster r2d2: a new host needs a server of its own',
        "the SSH host key of db4 is db1's: copy it from the new machine (ssh-keyscan -t ed25519 10.0.0.11), not from another host",
      ],
    });
    const noSsh = checkNewHost(cluster, host({ name: 'db4', address: '10.0.0.14' }));
    expect(noSsh.ok).toBe(false);
    if (!noSsh.ok) expect(noSsh.problems[0]).toMatch(/^db4 has no ssh entry .*: the copy streams over SSH/);
  });

  test('the same address on another port is another server', () => {
    expect(
      checkNewHost(cluster, host({ name: 'db4', address: '10.0.0.11', port: 3307, ssh: { hostKey: KEY4 } })),
    ).toEqual({
      ok: true,
      present: false,
    });
  });
});

describe('sameHostEntry', () => {
  test('key order and absent optional fields do not matter; any value does', () => {
    const a = host({ name: 'db4', address: '10.0.0.14', ssh: { hostKey: KEY4 }, dataCenter: 'dc1' });
    const b = host({
      dataCenter: 'dc1',
      ssh: { port: 22, hostKey: KEY4 },
      address: '10.0.0.14',
      name: 'db4',
    });
    expect(sameHostEntry(a, b)).toBe(true);
    expect(sameHostEntry(a, { ...b, dataCenter: 'dc2' })).toBe(false);
    expect(sameHostEntry(a, { ...b, ssh: { ...b.ssh!, user: 'ops' } })).toBe(false);
    expect(
      sameHostEntry(a, { ...b, service: { datadir: '/var/lib/mysql', startCommand: 's', stopCommand: 't' } }),
    ).toBe(false);
  });
});
