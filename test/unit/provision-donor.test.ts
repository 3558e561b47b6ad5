import { chooseDonor, donorProblem } from '../../domain/provision';
import { replicaOf } from './decisions.fixtures';
import { emptyNode, fourHosts, hostsWithSsh, withEmptyDb4 } from './provision.fixtures';

const choose = (
  patch: Parameters<typeof withEmptyDb4>[0] = {},
  request: { requested?: string; allowPrimary?: boolean } = {},
  c = fourHosts(),
) =>
  chooseDonor(
    { cluster: c, topology: withEmptyDb4(patch), primary: 'db1', target: 'db4' },
    { allowPrimary: false, ...request },
  );

describe('chooseDonor: which server the new replica is copied from', () => {
  test('the least lagging healthy replica; never the primary, never the target', () => {
    const r = choose({ db2: { replication: replicaOf('db1', { lagSeconds: 5 }) } });
    expect(r).toMatchObject({ ok: true, donor: 'db3', isPrimary: false });
    if (!r.ok) throw new Error('expected a donor');
    expect(r.candidates.map((c) => c.name)).toEqual(['db3', 'db2']);
    expect(r.candidates.map((c) => c.name)).not.toContain('db1');
    expect(r.candidates.map((c) => c.name)).not.toContain('db4');
  });

  test('ties break by the target data center, then by name', () => {
    const hosts = hostsWithSsh({
      db1: { dataCenter: 'dc-a' },
      db2: { dataCenter: 'dc-a' },
      db3: { dataCenter: 'dc-b' },
      db4: { dataCenter: 'dc-b' },
    });
    expect(choose({}, {}, fourHosts({ hosts }))).toMatchObject({ ok: true, donor: 'db3' });
    expect(choose()).toMatchObject({ ok: true, donor: 'db2' });
  });

  test('unknown lag ranks after any known lag', () => {
    const r = choose({ db2: { replication: replicaOf('db1', { lagSeconds: null }) } });
    expect(r).toMatchObject({ ok: true, donor: 'db3' });
  });

  test('unhealthy replicas are excluded with their reason', () => {
    const r = choose({
      db2: { replication: replicaOf('db1', { sqlRunning: false, sqlError: 'Duplicate entry 7' }) },
      db3: { reachable: false, error: 'connect ECONNREFUSED' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) throw new Error('expected a refusal');
    expect(r.refusal).toBe(
      'no healthy replica to copy from (db2: SQL thread failed: Duplicate entry 7; db3: unreachable: connect ECONNREFUSED): fix one, name one with donor: NAME, or copy from the primary db1 with allowPrimaryDonor: true',
    );
  });

  test.each([
    [
      { replication: replicaOf('db1', { ioRunning: 'no' as const, ioError: 'access denied' }) },
      'IO thread stopped: access denied',
    ],
    [{ replication: replicaOf('db1', { ioRunning: 'connecting' as const }) }, 'IO thread connecting'],
    [{ replication: replicaOf('db1', { sqlRunning: false }) }, 'SQL thread stopped'],
    [
      { replication: replicaOf('10.9.9.9:3306') },
      'replicates from 10.9.9.9:3306, which is not a host of r2d2',
    ],
    [{ replication: null }, 'not a replica (replicates from no one)'],
    [emptyNode('db2'), 'unprovisioned: it holds nothing to copy'],
  ])('a named donor that is unhealthy is refused, naming the others: %#', (patch, why) => {
    const r = choose({ db2: patch }, { requested: 'db2' });
    expect(r).toMatchObject({
      ok: false,
      refusal: `donor db2 unhealthy: ${why}; pick another with donor: db3`,
    });
  });

  test('a replica of another replica is a fine donor', () => {
    expect(choose({ db3: { replication: replicaOf('db2') } }, { requested: 'db3' })).toMatchObject({
      ok: true,
      donor: 'db3',
    });
  });

  test('an unhealthy named donor with no healthy alternative says how to go on', () => {
    const r = choose(
      { db2: { replication: replicaOf('db1', { sqlRunning: false }) }, db3: { reachable: false } },
      { requested: 'db2' },
    );
    expect(r).toMatchObject({
      ok: false,
      refusal:
        'donor db2 unhealthy: SQL thread stopped; no other replica is healthy: fix one, or copy from the primary db1 with allowPrimaryDonor: true',
    });
  });

  test('the primary only when asked explicitly', () => {
    expect(choose({}, { requested: 'db1' })).toMatchObject({
      ok: false,
      refusal:
        "donor db1 is the primary: a backup of it competes with the application's writes; pick a replica with donor: db2 or db3, or set allowPrimaryDonor: true",
    });
    const r = choose({}, { requested: 'db1', allowPrimary: true });
    expect(r).toMatchObject({ ok: true, donor: 'db1', isPrimary: true });
    if (r.ok) expect(r.warnings[0]).toMatch(/copying from the primary db1/);
  });

  test('allowPrimary alone still prefers a healthy replica', () => {
    expect(choose({}, { allowPrimary: true })).toMatchObject({ ok: true, donor: 'db2', isPrimary: false });
  });

  test('allowPrimary falls back to the primary when no replica is healthy, with a warning', () => {
    const r = choose({ db2: { reachable: false }, db3: { reachable: false } }, { allowPrimary: true });
    expect(r).toMatchObject({ ok: true, donor: 'db1', isPrimary: true });
    if (r.ok) expect(r.warnings[0]).toMatch(/^no healthy replica to copy from \(db2: unreachable/);
  });

  test('the target itself and unknown names are refused', () => {
    expect(choose({}, { requested: 'db4' })).toMatchObject({
      ok: false,
      refusal: 'donor db4 is the target itself; pick another with donor: db2 or db3',
    });
    expect(choose({}, { requested: 'db9' })).toMatchObject({
      ok: false,
      refusal:
        'unknown donor "db9": cluster r2d2 has db1, db2, db3, db4; pick another with donor: db2 or db3',
    });
  });

  test('donorProblem: a node discovery did not see', () => {
    expect(donorProblem(undefined, fourHosts(), 'db1')).toBe('not seen by discovery');
  });
});
