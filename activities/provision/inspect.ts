// Inspect: what the target and the donor are now, read-only. The preflight decides on these
// facts, and copyBackup reads them again for its last look.
import type { Dialect, ReplicationStatus } from '../../domain/dialects';
import { parseDfAvailable, type UserSchema } from '../../domain/dialects/backup';
import type { Cluster, Host } from '../../domain/inventory';
import type { ProvisionDonorFacts, ProvisionTargetFacts } from '../../domain/provision';
import { trimSlash } from '../../domain/provision/lastLook';
import { probe } from '../sql/run';
import { shellQuote } from '../shellQuote';
import { serverDatadir, type ProvisionHosts } from './hosts';
import { readMarker, workdirOf, type ProvisionMarker } from './workdir';

// The facts' shapes are the decision code's (domain/provision), so the two cannot drift apart.
export type ProvisionTargetState = ProvisionTargetFacts;
export type DonorState = ProvisionDonorFacts;

/** What the copy needs of the donor besides what the preflight sees. */
export type DonorLook = DonorState & {
  logReplicaUpdates: boolean | null;
  replicating: boolean;
  userBytes: number;
};

export function createInspectActivities(hosts: ProvisionHosts) {
  return {
    /** What the target is now, read-only: whether it may be provisioned, and a marker of a copy under way. */
    async inspectProvisionTarget(input: { cluster: string; host: string }): Promise<ProvisionTargetState> {
      const { cluster, host, dialect } = hosts.lookup(input);
      return inspectTarget(hosts, cluster, host, dialect);
    },

    async inspectDonor(input: { cluster: string; host: string }): Promise<DonorState> {
      const { host, dialect } = hosts.lookup(input);
      const {
        logReplicaUpdates: _l,
        replicating: _r,
        userBytes: _u,
        ...state
      } = await inspectDonorHost(hosts, host, dialect);
      return state;
    },
  };
}

export async function inspectTarget(
  hosts: ProvisionHosts,
  cluster: Cluster,
  host: Host,
  dialect: Dialect,
): Promise<ProvisionTargetState> {
  const service = host.service ?? null;
  let server: {
    readOnly: boolean;
    version: string;
    replication: ReplicationStatus | null;
    current: string;
    binlog: string;
    schemas: UserSchema[];
    datadir: string;
  } | null = null;
  try {
    server = await hosts.on(host, 'inspect provisioning target', async (c) => {
      const facts = await probe(c, dialect.nodeFacts());
      const replication = await probe(c, dialect.replicationStatus());
      const gtid = await probe(c, dialect.gtidPosition());
      const schemas = await probe(c, dialect.backup.userSchemas());
      return {
        readOnly: facts.readOnly || facts.superReadOnly === true,
        version: facts.version,
        replication,
        current: gtid.current,
        binlog: gtid.position,
        schemas,
        datadir: await serverDatadir(c),
      };
    });
  } catch {
    server = null;
  }
  const datadir = service ? trimSlash(service.datadir) : (server?.datadir ?? null);
  let diskFreeBytes: number | null = null;
  let marker: ProvisionMarker | null = null;
  if (datadir && hosts.canSsh(host)) {
    const df = await hosts.ssh(host).exec(host, `df -Pk ${shellQuote(datadir)}`, { timeoutMs: 30_000 });
    if (df.code === 0) diskFreeBytes = parseDfAvailable(df.stdout);
    marker = await readMarker(hosts, host, workdirOf(datadir));
  }
  const r = server?.replication ?? null;
  return {
    reachable: server !== null,
    readOnly: server?.readOnly ?? null,
    version: server?.version ?? null,
    replication: r
      ? {
          source: sourceName(cluster, r),
          ioRunning: r.ioRunning,
          sqlRunning: r.sqlRunning === 'yes',
          lastError: r.lastSqlError || r.lastIoError || null,
        }
      : null,
    gtidCurrentPos: server?.current ?? '',
    gtidBinlogPos: server?.binlog ?? '',
    userSchemas: server?.schemas.map((s) => s.name) ?? [],
    dataBytes: server?.schemas.reduce((n, s) => n + s.bytes, 0) ?? 0,
    diskFreeBytes,
    datadir,
    serviceConfigured: service !== null,
    inProgressMarker: marker,
  };
}

export async function inspectDonorHost(
  hosts: ProvisionHosts,
  host: Host,
  dialect: Dialect,
): Promise<DonorLook> {
  const facts = await hosts.on(host, 'inspect donor', async (c) => {
    const node = await probe(c, dialect.nodeFacts());
    const replication = await probe(c, dialect.replicationStatus());
    const schemas = await probe(c, dialect.backup.userSchemas());
    const dataBytes = await probe(c, dialect.backup.totalDataBytes());
    return {
      version: node.version,
      logReplicaUpdates: node.logReplicaUpdates,
      replicating: replication !== null,
      schemas,
      dataBytes,
      datadir: await serverDatadir(c),
    };
  });
  let hasBackupTool = false;
  if (hosts.canSsh(host)) {
    const r = await hosts
      .ssh(host)
      .exec(host, `command -v ${shellQuote(dialect.backup.physicalTools.donor)}`, { timeoutMs: 30_000 });
    hasBackupTool = r.code === 0 && r.stdout.trim() !== '';
  }
  return {
    dataBytes: facts.dataBytes,
    tables: facts.schemas.reduce((n, s) => n + s.tables, 0),
    rowsEstimate: facts.schemas.reduce((n, s) => n + s.rowsEstimate, 0),
    version: facts.version,
    datadir: facts.datadir,
    hasMariadbBackup: hasBackupTool,
    logReplicaUpdates: facts.logReplicaUpdates,
    replicating: facts.replicating,
    userBytes: facts.schemas.reduce((n, s) => n + s.bytes, 0),
  };
}

/** The inventory name of the host it replicates from, else the source's address. */
function sourceName(cluster: Cluster, r: ReplicationStatus): string {
  return (
    cluster.hosts.find((h) => h.address === r.sourceHost && h.port === r.sourcePort)?.name ??
    `${r.sourceHost}:${r.sourcePort}`
  );
}
