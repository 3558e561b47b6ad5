// copyBackup's last look: the refusals it makes on facts read just before its first change, in
// the order it makes them, and the physical-copy rules it shares with the preflight.
import { lastLook, physicalBlockers, type LastLookFacts } from '../../domain/provision';

type Patch = Partial<Omit<LastLookFacts, 'target' | 'donor'>> & {
  target?: Partial<LastLookFacts['target']>;
  donor?: Partial<LastLookFacts['donor']>;
};

const look = (p: Patch = {}) =>
  lastLook({
    method: 'logical',
    wipe: false,
    ...p,
    target: {
      name: 'db4',
      reachable: true,
      userSchemas: [],
      replication: null,
      inProgressMarker: null,
      serviceDatadir: '/var/lib/mysql/',
      ...p.target,
    },
    donor: {
      name: 'db2',
      backupTool: 'mariadb-backup',
      hasBackupTool: true,
      datadir: '/var/lib/mysql',
      replicating: true,
      logReplicaUpdates: true,
      ...p.donor,
    },
  });

describe('lastLook', () => {
  test('an empty target and a fit donor: no refusal, either method', () => {
    expect(look()).toBeUndefined();
    expect(look({ method: 'physical', target: { liveDatadir: '/var/lib/mysql' } })).toBeUndefined();
  });

  test('data or a source of its own is refused without wipe; the first reason is the one given', () => {
    const target = { userSchemas: ['app', 'shop'], replication: { source: 'db1' } };
    expect(look({ target })).toBe('it holds data (schemas app, shop): pass wipe: true to replace it');
    expect(look({ target: { replication: { source: null } } })).toBe(
      'it replicates from a source: pass wipe: true to replace it',
    );
    expect(look({ target, wipe: true })).toBeUndefined();
  });

  test('a partial restore of an earlier attempt is not data of its own', () => {
    const marker = { method: 'logical' };
    expect(look({ target: { userSchemas: ['app'], inProgressMarker: marker } })).toBeUndefined();
  });

  test('physical: the rules of the preflight, in the activity words', () => {
    expect(look({ method: 'physical', target: { serviceDatadir: null } })).toBe(
      'a physical copy stops and starts its server: add service (datadir, startCommand, stopCommand) to host db4',
    );
    expect(look({ method: 'physical', donor: { hasBackupTool: false, backupTool: 'xtrabackup' } })).toBe(
      'xtrabackup is not installed on the donor db2',
    );
    expect(look({ method: 'physical', donor: { datadir: null } })).toBe(
      'the datadir of the donor db2 is unknown',
    );
  });

  test('physical onto a live server: its datadir must be the inventory one, trailing slash aside', () => {
    expect(look({ method: 'physical', target: { liveDatadir: '/srv/db' } })).toBe(
      'its server runs in /srv/db but service.datadir says /var/lib/mysql/: correct the inventory',
    );
  });

  test('physical onto a stopped server: unknown data needs wipe, and the path must look like a datadir', () => {
    const down = { reachable: false };
    expect(look({ method: 'physical', target: down })).toBe(
      'its server does not answer, so whether it holds data is unknown: pass wipe: true to replace it',
    );
    expect(look({ method: 'physical', wipe: true, target: down })).toBeUndefined();
    expect(look({ method: 'physical', wipe: true, target: { ...down, datadirLooksLikeOne: false } })).toBe(
      "service.datadir /var/lib/mysql/ is neither empty nor a server's datadir: correct the inventory",
    );
    // Its own half-restored datadir: the marker vouches for the path.
    const marked = { ...down, datadirLooksLikeOne: false, inProgressMarker: { method: 'physical' } };
    expect(look({ method: 'physical', target: marked })).toBeUndefined();
  });

  test('logical onto a server a physical attempt left stopped: retry physical', () => {
    expect(look({ target: { reachable: false, inProgressMarker: { method: 'physical' } } })).toBe(
      'the previous attempt was a physical copy and left its server stopped: retry with method physical',
    );
    // Merely down: not a refusal (the activity retries it as unreachable).
    expect(look({ target: { reachable: false } })).toBeUndefined();
  });

  test('logical from a replica without log_slave_updates: its position would miss what it replicated', () => {
    expect(look({ donor: { logReplicaUpdates: false } })).toBe(
      'the donor db2 replicates without log_slave_updates: its binlog position would not cover what it replicated; choose another donor or the physical method',
    );
    expect(look({ donor: { logReplicaUpdates: false, replicating: false } })).toBeUndefined();
    expect(look({ method: 'physical', donor: { logReplicaUpdates: false } })).toBeUndefined();
  });
});

describe('physicalBlockers', () => {
  test('every missing piece, in order', () => {
    expect(
      physicalBlockers({ targetServiceConfigured: false, donorHasBackupTool: false, donorDatadir: null }),
    ).toEqual(['target-without-service', 'donor-without-backup-tool', 'donor-datadir-unknown']);
    expect(
      physicalBlockers({ targetServiceConfigured: true, donorHasBackupTool: true, donorDatadir: '/d' }),
    ).toEqual([]);
  });
});
