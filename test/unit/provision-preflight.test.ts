import { gtidOps } from '../../domain/gtid';
import {
  DEFAULT_PROVISION_POLICY,
  GiB,
  preflightProvision,
  unknownTarget,
  type ProvisionRequest,
} from '../../domain/provision';
import { replicaOf } from './decisions.fixtures';
import { donorFacts, emptyTarget, fourHosts, hostsWithSsh, withEmptyDb4 } from './provision.fixtures';

type Args = Parameters<typeof preflightProvision>[0];
const gtid = gtidOps('mariadb');
const run = (o: Partial<Omit<Args, 'request'>> & { request?: Partial<ProvisionRequest> } = {}) =>
  preflightProvision({
    cluster: fourHosts(),
    topology: withEmptyDb4(),
    target: emptyTarget(),
    donor: donorFacts(),
    gtid,
    ...o,
    request: { host: 'db4', allowPrimaryDonor: false, wipe: false, ...o.request },
  });
const refusals = (r: ReturnType<typeof preflightProvision>) => {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.decision)}`);
  return r.refusals;
};

describe('preflightProvision: everything refused before the copy changes anything', () => {
  test('an empty target, a healthy donor, a small data set: logical from db2', () => {
    const r = run();
    expect(r).toMatchObject({
      ok: true,
      decision: {
        primary: 'db1',
        donor: 'db2',
        donorIsPrimary: false,
        method: 'logical',
        requiredDiskBytes: Math.ceil(50e6 * 1.1),
        warnings: [],
      },
    });
  });

  test('a target outside the cluster is refused before it is inspected', () => {
    const want =
      'unknown host "db9": cluster r2d2 has db1, db2, db3, db4; add it to the inventory\'s hosts (address, port, ssh.hostKey; workers re-read the file), or give its entry as newHost';
    expect(unknownTarget(fourHosts(), 'db9')).toBe(want);
    expect(unknownTarget(fourHosts(), 'db4')).toBeUndefined();
    expect(refusals(run({ request: { host: 'db9' }, target: undefined }))).toEqual([want]);
  });

  test('the primary is never a target', () => {
    expect(refusals(run({ request: { host: 'db1' } }))).toEqual([
      "db1 is the primary of r2d2: provisioning replaces a server's data; name a new host or a broken replica",
    ]);
  });

  test('a target already replicating from the live primary is refused, even with wipe', () => {
    const replicating = {
      replication: { source: 'db1', ioRunning: 'yes', sqlRunning: true, lastError: null },
      gtidCurrentPos: '0-1-100',
      userSchemas: ['app'],
    };
    for (const wipe of [false, true])
      expect(refusals(run({ target: emptyTarget(replicating), request: { wipe } }))).toEqual([
        'db4 already replicates from the primary db1 (IO yes, SQL running): it is provisioned; to rebuild it, stop its replication (STOP SLAVE; RESET SLAVE ALL) and run again with wipe: true',
        ...(wipe
          ? []
          : [
              'db4 holds data (schemas app; GTID state 0-1-100): provisioning would replace it; pass wipe: true to drop it, or name an empty host',
            ]),
      ]);
  });

  test('a target replicating from any source (or still connecting) is refused', () => {
    const r = refusals(
      run({
        target: emptyTarget({
          replication: {
            source: '10.9.9.9:3306',
            ioRunning: 'connecting',
            sqlRunning: true,
            lastError: 'error connecting',
          },
        }),
        request: { wipe: true },
      }),
    );
    expect(r).toEqual([
      'db4 replicates from 10.9.9.9:3306 (IO connecting, SQL running, error: error connecting): stop its replication (STOP SLAVE; RESET SLAVE ALL), then run again with wipe: true',
    ]);
  });

  test('a target holding data is refused unless wipe, which warns what is dropped', () => {
    const holding = emptyTarget({
      userSchemas: ['app', 'shop'],
      gtidCurrentPos: '0-4-3',
      gtidBinlogPos: '0-4-3',
      replication: { source: 'db1', ioRunning: 'no', sqlRunning: false, lastError: null },
    });
    expect(refusals(run({ target: holding }))).toEqual([
      'db4 holds data (schemas app, shop; GTID state 0-4-3; replication from db1 configured (stopped)): provisioning would replace it; pass wipe: true to drop it, or name an empty host',
    ]);
    const wiped = run({ target: holding, request: { wipe: true } });
    expect(wiped.ok && wiped.decision.warnings).toEqual([
      'wipe: what db4 holds is dropped (schemas app, shop; GTID state 0-4-3; replication from db1 configured (stopped))',
    ]);
  });

  test('GTID state alone (transactions of its own) is data', () => {
    expect(refusals(run({ target: emptyTarget({ gtidBinlogPos: '0-4-1' }) }))[0]).toMatch(
      /^db4 holds data \(GTID state 0-4-1\)/,
    );
  });

  test('a partial restore of an earlier, unfinished copy is not data: it is copied again', () => {
    const r = run({
      target: emptyTarget({
        userSchemas: ['app'],
        inProgressMarker: { method: 'logical', donor: 'db3', startedAt: '2025-01-01T00:00:00Z' },
      }),
    });
    expect(r.ok && r.decision.warnings).toEqual([
      'an earlier logical copy from db3 (started 2025-01-01T00:00:00Z) did not finish on db4: its partial restore is wiped and the copy made again',
    ]);
  });

  test('an unreachable or writable target is refused with the fix', () => {
    expect(
      refusals(
        run({
          target: emptyTarget({ reachable: false }),
          topology: withEmptyDb4({ db4: { reachable: false, error: 'ECONNREFUSED' } }),
        }),
      ),
    ).toContain('db4 does not answer (ECONNREFUSED): start its server and check the worker reaches db4');
    // Writable and the only writer would be the primary; here db1 is too, so two writers.
    expect(refusals(run({ target: emptyTarget({ readOnly: false }) }))).toEqual([
      'db4 is writable: a replica must be read-only; set read_only=1 in its configuration',
    ]);
  });

  test('no primary: nothing to replicate from', () => {
    const r = refusals(run({ topology: withEmptyDb4({ db1: { reachable: false, error: 'down' } }) }));
    expect(r[0]).toMatch(
      /^provisioning needs the primary to replicate from: no writable node \(unreachable: db1\)/,
    );
  });

  test('donor refusals are in the list with the target ones (every reason at once)', () => {
    const r = refusals(
      run({
        target: emptyTarget({ userSchemas: ['app'] }),
        topology: withEmptyDb4({
          db2: { reachable: false },
          db3: { replication: replicaOf('db1', { sqlRunning: false }) },
        }),
        donor: undefined,
      }),
    );
    expect(r).toHaveLength(2);
    expect(r[0]).toMatch(/^db4 holds data/);
    expect(r[1]).toMatch(
      /^no healthy replica to copy from \(db2: unreachable: no answer; db3: SQL thread stopped\)/,
    );
  });

  test('a chosen donor that was not inspected is a refusal, not a silent pass', () => {
    expect(refusals(run({ donor: undefined }))).toEqual([
      'the donor db2 was not inspected: nothing is known of its data',
    ]);
  });

  describe('the disk', () => {
    test('not enough free disk: the numbers and the margin', () => {
      expect(
        refusals(
          run({
            target: emptyTarget({ diskFreeBytes: 1.5 * GiB, serviceConfigured: true }),
            donor: donorFacts({ dataBytes: 2 * GiB }),
          }),
        ),
      ).toEqual([
        "not enough disk on db4: 1.6 GB free for /var/lib/mysql, needs 2.6 GB (the donor db2's 2.1 GB × 1.2 for a physical copy): free space on db4 or grow its disk",
      ]);
    });

    test('a physical copy needs the bigger margin; exactly enough passes', () => {
      const donor = donorFacts({ dataBytes: 2 * GiB });
      const need = Math.ceil(2 * GiB * DEFAULT_PROVISION_POLICY.diskMargin.physical);
      const r = run({ target: emptyTarget({ diskFreeBytes: need, serviceConfigured: true }), donor });
      expect(r).toMatchObject({ ok: true, decision: { method: 'physical', requiredDiskBytes: need } });
      expect(
        run({ target: emptyTarget({ diskFreeBytes: need - 1, serviceConfigured: true }), donor }).ok,
      ).toBe(false);
    });

    test('what a wipe drops counts as free', () => {
      const target = emptyTarget({ diskFreeBytes: 30e6, dataBytes: 40e6, userSchemas: ['old'] });
      expect(run({ target, request: { wipe: true } }).ok).toBe(true);
      expect(refusals(run({ target: { ...target, userSchemas: [] } }))[0]).toMatch(
        /^not enough disk on db4: 30\.0 MB free for \/var\/lib\/mysql, needs 55\.0 MB/,
      );
    });

    test('unknown free disk is a warning, not a refusal', () => {
      const r = run({ target: emptyTarget({ diskFreeBytes: null }) });
      expect(r.ok && r.decision.warnings).toEqual([
        'the free disk on db4 is unknown (df over SSH failed): not checked',
      ]);
    });
  });

  describe('the method', () => {
    test('physical asked without the target service or the donor tool: refused, naming logical', () => {
      const r = refusals(
        run({ request: { method: 'physical' }, donor: donorFacts({ hasMariadbBackup: false }) }),
      );
      expect(r).toEqual([
        "a physical copy stops and starts db4's server, and its inventory entry has no service (datadir, startCommand, stopCommand): add hosts[db4].service; or use method: logical",
        'the backup tool (mariadb-backup) is not installed on the donor db2: install it there; or use method: logical',
      ]);
    });

    test('physical chosen by size but impossible: logical, with a warning saying why', () => {
      const r = run({ donor: donorFacts({ dataBytes: 3 * GiB }) });
      expect(r).toMatchObject({ ok: true, decision: { method: 'logical' } });
      if (!r.ok) return;
      expect(r.decision.methodReason).toMatch(
        /^logical: 3\.2 GB of data, at least the 1\.1 GB threshold would pick physical, but a physical copy stops/,
      );
      expect(r.decision.warnings[0]).toMatch(/^physical copy impossible, copying logically/);
    });

    test('physical needs the same major version on both sides', () => {
      const r = refusals(
        run({
          request: { method: 'physical' },
          target: emptyTarget({ serviceConfigured: true, version: '11.4.2-MariaDB' }),
        }),
      );
      expect(r).toEqual([
        'the donor db2 runs 10.11.6-MariaDB and db4 11.4.2-MariaDB: a physical copy needs the same major version; or use method: logical',
      ]);
      expect(
        run({ request: { method: 'logical' }, target: emptyTarget({ version: '11.4.2-MariaDB' }) }).ok,
      ).toBe(true);
    });

    test('logical asked on a large data set is honoured', () => {
      expect(
        run({ request: { method: 'logical' }, donor: donorFacts({ dataBytes: 5 * GiB }) }),
      ).toMatchObject({
        ok: true,
        decision: { method: 'logical', methodReason: 'logical, as asked' },
      });
    });
  });

  test('a target older than the primary is warned about', () => {
    const r = run({ target: emptyTarget({ version: '10.6.1-MariaDB' }) });
    expect(r.ok && r.decision.warnings).toEqual([
      "db4 runs 10.6.1-MariaDB, older than the primary's 10.11.6-MariaDB: replication from a newer primary is not guaranteed",
    ]);
  });

  test('a donor with errant transactions is refused: the copy would carry them', () => {
    const r = refusals(
      run({ topology: withEmptyDb4({ db2: { gtidHistory: '0-1-100,0-2-5' } }), request: { donor: 'db2' } }),
    );
    expect(r).toEqual([
      expect.stringMatching(
        /^the donor db2 has errant transactions \(.*\): the copy would carry them to db4; pick another with donor: NAME or remove them$/,
      ),
    ]);
  });

  test('no SSH to the target or the donor: refused, naming the inventory field', () => {
    const c = fourHosts({ hosts: hostsWithSsh({ db2: { ssh: undefined }, db4: { ssh: undefined } }) });
    expect(refusals(run({ cluster: c }))).toEqual([
      'provisioning runs commands on db4 over SSH, and its inventory entry has no ssh (hostKey): add hosts[db4].ssh',
      'provisioning runs commands on db2 over SSH, and its inventory entry has no ssh (hostKey): add hosts[db2].ssh',
    ]);
  });

  test('the primary as donor when allowed', () => {
    expect(run({ request: { donor: 'db1', allowPrimaryDonor: true } })).toMatchObject({
      ok: true,
      decision: { donor: 'db1', donorIsPrimary: true },
    });
  });
});
