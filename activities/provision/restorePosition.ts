// Restore position: the restored target's replica position made exactly the backup's, then
// replication from its source, followed as it catches up.
import type { Dialect } from '../../domain/dialects';
import { gtidOps } from '../../domain/gtid';
import { gtidDistance } from '../../domain/gtid/distance';
import type { Host } from '../../domain/inventory';
import { ErrorType, nonRetryable } from '../errors';
import { hostOf } from '../lookup';
import type { RepointInput } from '../sql';
import { execute, probe } from '../sql/run';
import { shellQuote } from '../shellQuote';
import type { ProvisionHosts } from './hosts';
import { workdirOf } from './workdir';

export interface ReplicationProgress {
  ioRunning: string | null;
  sqlRunning: boolean | null;
  lastError: string | null;
  lagSeconds: number | null;
  /** Transactions the host lacks of the primary's position (per domain, summed). */
  gtidDistance: number;
}

/** After a restore: no binlog GTIDs of its own, replica position exactly the backup's. */
export async function setPosition(
  hosts: ProvisionHosts,
  target: Host,
  dialect: Dialect,
  position: string,
  o: { writableDuringRestore: boolean },
): Promise<void> {
  const ops = gtidOps(dialect.flavor);
  await hosts.onPatiently(target, 'set the replica position', async (c) => {
    if (o.writableDuringRestore) await execute(c, dialect.backup.restoreDone());
    const status = await probe(c, dialect.replicationStatus());
    const version = (await probe(c, dialect.nodeFacts())).version;
    await execute(c, [
      ...dialect.backup.resetForRestore(version, status !== null),
      ...dialect.backup.setReplicaPosition(position, version),
    ]);
    const now = await probe(c, dialect.gtidPosition());
    const applied = now.replica ?? now.current;
    if (
      ops.compare(applied, position) !== 'equal' ||
      !(ops.isEmpty(now.position) || ops.compare(now.position, position) === 'equal')
    )
      throw nonRetryable(
        ErrorType.SqlError,
        `${target.name}: after the restore its replica position is ${applied} and its binlog position ${now.position || '(empty)'}, expected ${position}`,
      );
  });
}

export function createRestorePositionActivities(
  hosts: ProvisionHosts,
  repoint: (input: RepointInput) => Promise<unknown>,
) {
  return {
    /**
     * Points the host at `source` from `gtidPosition` (when it is not past it already), starts
     * replication and removes the in-progress marker. Idempotent: a host already replicating from
     * the source is left running.
     */
    async startReplica(input: {
      cluster: string;
      host: string;
      source: string;
      gtidPosition: string;
    }): Promise<{ source: string }> {
      const { cluster, host, dialect } = hosts.lookup(input);
      const source = hostOf(cluster, input.source);
      const ops = gtidOps(cluster.flavor);
      await hosts.on(host, 'check the replica position', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        const applied = status ? status.gtidExecuted : (await probe(c, dialect.gtidPosition())).current;
        const relation = ops.compare(applied, input.gtidPosition);
        if (relation === 'diverged')
          throw nonRetryable(
            ErrorType.Refused,
            `startReplica ${host.name}: its position ${applied} diverged from the backup's ${input.gtidPosition}: copy the backup again`,
          );
        // Behind: copyBackup's last step did not run or was undone. Ahead or equal: it replicated
        // already, and setting the position again would replay what it applied.
        if (relation === 'behind') {
          const version = (await probe(c, dialect.nodeFacts())).version;
          await execute(c, [
            ...(status ? dialect.stopAndForgetReplication() : []),
            ...dialect.backup.setReplicaPosition(input.gtidPosition, version),
          ]);
        }
      });
      await repoint({ cluster: input.cluster, host: host.name, source: source.name });
      // Only now is it a replica: the marker goes last.
      if (hosts.canSsh(host)) {
        const datadir = await hosts.datadirOf(host);
        if (datadir)
          await hosts.remote(
            host,
            'remove the provisioning marker',
            `rm -rf ${shellQuote(workdirOf(datadir))}`,
          );
      }
      return { source: source.name };
    },

    async replicationProgress(input: {
      cluster: string;
      host: string;
      primary: string;
    }): Promise<ReplicationProgress> {
      const { cluster, host, dialect } = hosts.lookup(input);
      const primary = hostOf(cluster, input.primary);
      const [mine, theirs] = await Promise.all([
        hosts.on(host, 'read replication progress', async (c) => {
          const status = await probe(c, dialect.replicationStatus());
          return {
            status,
            applied: status ? status.gtidExecuted : (await probe(c, dialect.gtidPosition())).current,
          };
        }),
        hosts.on(primary, 'read the primary position', (c) => probe(c, dialect.gtidPosition())),
      ]);
      const s = mine.status;
      return {
        ioRunning: s?.ioRunning ?? null,
        sqlRunning: s ? s.sqlRunning === 'yes' : null,
        lastError: s ? s.lastSqlError || s.lastIoError || null : null,
        lagSeconds: s?.lagSeconds ?? null,
        gtidDistance: gtidDistance(cluster.flavor, mine.applied, theirs.position),
      };
    },
  };
}
