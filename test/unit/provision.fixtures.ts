// Facts for the provisioning decisions: a 4-host cluster whose db4 is a fresh, empty server.
import type { NodeState } from '../../domain/topology';
import type { ProvisionDonorFacts, ProvisionTargetFacts } from '../../domain/provision';
import { cluster, topology } from './decisions.fixtures';

/** What discovery sees of a fresh install: answers, read-only, no replication, no GTID at all. */
export const emptyNode = (name = 'db4', more: Partial<NodeState> = {}): Partial<NodeState> => ({
  name,
  reachable: true,
  version: '10.11.6-MariaDB',
  readOnly: true,
  replication: null,
  gtidExecuted: '',
  gtidHistory: '',
  ...more,
});

/** db1 primary, db2 and db3 replicas, db4 empty. */
export const withEmptyDb4 = (patch: Record<string, Partial<NodeState>> = {}) =>
  topology({ db4: emptyNode(), ...patch }, 4);

const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfATestHost';

/** db1..db4 reachable over SSH (provisioning runs its tools there), with per-host extras. */
export const hostsWithSsh = (extra: Record<string, object> = {}) =>
  [1, 2, 3, 4].map((i) => ({
    name: `db${i}`,
    address: `10.0.0.${10 + i}`,
    ssh: { hostKey: HOST_KEY },
    ...extra[`db${i}`],
  }));

export const fourHosts = (overrides: Record<string, unknown> = {}) =>
  cluster({ hosts: hostsWithSsh(), ...overrides }, 4);

export const emptyTarget = (more: Partial<ProvisionTargetFacts> = {}): ProvisionTargetFacts => ({
  reachable: true,
  readOnly: true,
  version: '10.11.6-MariaDB',
  replication: null,
  gtidCurrentPos: '',
  gtidBinlogPos: '',
  userSchemas: [],
  dataBytes: 0,
  diskFreeBytes: 100e9,
  datadir: '/var/lib/mysql',
  serviceConfigured: false,
  inProgressMarker: null,
  ...more,
});

export const donorFacts = (more: Partial<ProvisionDonorFacts> = {}): ProvisionDonorFacts => ({
  dataBytes: 50e6,
  tables: 3,
  rowsEstimate: 1000,
  version: '10.11.6-MariaDB',
  datadir: '/var/lib/mysql',
  hasMariadbBackup: true,
  ...more,
});
