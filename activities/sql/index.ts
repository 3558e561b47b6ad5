// SQL activities: every one idempotent and safe to retry, speaking the cluster's dialect. Inputs
// and results carry names and facts, never addresses with credentials or secrets.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { PoolConnection } from 'mysql2/promise';
import type { ActivityDeps } from '../deps';
import { FailureType, classifySqlError, nonRetryable } from '../errors';
import { clusterOf, hostOf } from '../lookup';
import type { Cluster, Host } from '../../domain/inventory';
import type { HostTopology } from '../../domain/topology';
import {
  dialectFor,
  killableSessions,
  type Dialect,
  type GtidPosition,
  type LongTransaction,
  type Statement,
} from '../../domain/dialects';
import { SqlPools } from './pools';
import { execute, probe, redacted } from './run';

export interface HostRef {
  cluster: string;
  host: string;
}

export interface Topology {
  cluster: string;
  hosts: HostTopology[];
}

export interface SetReadOnlyInput extends HostRef {
  on: boolean;
  timeoutSeconds: number;
}

export interface KillSessionsLoopInput extends HostRef {
  intervalMs: number;
}

export interface KillLoopProgress {
  kills: number;
  iterations: number;
}

export interface WaitUntilAppliedInput extends HostRef {
  position: string;
  timeoutSeconds: number;
}

export interface RepointInput extends HostRef {
  /** Name of the new source host in the same cluster. */
  source: string;
  /** The host was a primary (MariaDB: MASTER_DEMOTE_TO_SLAVE=1). */
  demote?: boolean;
  /**
   * The host is the writer of a master-master pair and replicates from its standby: it stays
   * writable (any other host repointed is made read-only first).
   */
  writer?: boolean;
}

export interface ChangeResult {
  host: string;
  changed: boolean;
  /** What was sent, with secrets redacted. */
  statements: string[];
}

export interface LongTransactionsInput extends HostRef {
  thresholdSeconds: number;
}

const ER_NO_SUCH_THREAD = 1094;
const ER_LOCK_WAIT_TIMEOUT = 1205;
/** How fast a repointed replica notices a dead source and retries. */
const REPLICA_HEARTBEAT_SECONDS = 1;
const REPLICA_CONNECT_RETRY_SECONDS = 1;

export function createSqlActivities(
  deps: ActivityDeps,
  options: { connectTimeoutMs?: number; pools?: SqlPools } = {},
) {
  const pools = options.pools ?? new SqlPools(deps.secrets.mysql, options);

  function lookup(ref: HostRef): { cluster: Cluster; host: Host; dialect: Dialect } {
    const cluster = clusterOf(deps.inventory, ref.cluster);
    const host = hostOf(cluster, ref.host);
    return { cluster, host, dialect: dialectFor(cluster.flavor) };
  }

  /** Runs fn on a connection to the host; any failure leaves classified and naming host + operation. */
  async function on<T>(host: Host, operation: string, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    try {
      return await pools.with(host, fn);
    } catch (err) {
      throw classifySqlError(host.name, operation, err);
    }
  }

  async function describeHost(cluster: Cluster, host: Host, dialect: Dialect): Promise<HostTopology> {
    try {
      return await on(host, 'discover', async (c) => {
        const facts = await probe(c, dialect.nodeFacts());
        const replication = await probe(c, dialect.replicationStatus());
        const gtid = await probe(c, dialect.gtidPosition());
        const source = replication
          ? cluster.hosts.find(
              (h) => h.address === replication.sourceHost && h.port === replication.sourcePort,
            )
          : undefined;
        return {
          host: host.name,
          reachable: true,
          error: null,
          facts,
          replication,
          gtid,
          sourceName: source?.name ?? null,
        };
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        host: host.name,
        reachable: false,
        error: message,
        facts: null,
        replication: null,
        gtid: null,
        sourceName: null,
      };
    }
  }

  const activities = {
    async discoverTopology({ cluster: name }: { cluster: string }): Promise<Topology> {
      const first = deps.inventory.clusters.find((c) => c.name === name)?.hosts[0]?.name ?? '';
      const { cluster, dialect } = lookup({ cluster: name, host: first });
      // In parallel: a dead host costs one connect timeout, not one per host.
      const hosts = await Promise.all(cluster.hosts.map((h) => describeHost(cluster, h, dialect)));
      return { cluster: cluster.name, hosts };
    },

    async setReadOnly(input: SetReadOnlyInput): Promise<ChangeResult> {
      const { host, dialect } = lookup(input);
      const statements = input.on ? dialect.readOnlyOn(input.timeoutSeconds) : dialect.readOnlyOff();
      try {
        await on(host, `set read_only ${input.on ? 'on' : 'off'}`, (c) => execute(c, statements));
      } catch (err) {
        const e = err as { cause?: { errno?: number } };
        if (e.cause?.errno === ER_LOCK_WAIT_TIMEOUT)
          throw nonRetryable(
            FailureType.Timeout,
            `set read_only on on ${host.name}: the global read lock was not granted within ${input.timeoutSeconds} s (a long statement or lock holds it)`,
          );
        throw err;
      }
      return { host: host.name, changed: true, statements: redacted(statements) };
    },

    async killSessionsLoop(input: KillSessionsLoopInput): Promise<KillLoopProgress> {
      const { host, dialect } = lookup(input);
      const ctx = Context.current();
      const previous = ctx.info.heartbeatDetails as KillLoopProgress | undefined;
      const progress: KillLoopProgress = {
        kills: previous?.kills ?? 0,
        iterations: previous?.iterations ?? 0,
      };
      // Other successover activities read this host while the loop runs; replication is never killed.
      const protectedUsers = [deps.secrets.mysql.user, deps.secrets.replication.user];
      while (!ctx.cancellationSignal.aborted) {
        await on(host, 'kill client sessions', async (c) => {
          const list = await probe(c, dialect.sessions());
          for (const s of killableSessions(list, { protectedUsers })) {
            try {
              await execute(c, [dialect.kill(s.id)]);
              progress.kills++;
            } catch (err) {
              // Gone between the list and the kill: what we wanted.
              if ((err as { errno?: number }).errno !== ER_NO_SUCH_THREAD) throw err;
            }
          }
        });
        progress.iterations++;
        ctx.heartbeat(progress);
        // Rejects with CancelledFailure as soon as the activity is cancelled.
        await ctx.sleep(input.intervalMs);
      }
      throw new CancelledFailure(`kill loop on ${host.name} cancelled after ${progress.kills} kills`);
    },

    /** The GTID position to wait for elsewhere (`.position`), plus the flavor's other positions. */
    async gtidPosition(input: HostRef): Promise<GtidPosition> {
      const { host, dialect } = lookup(input);
      return on(host, 'read GTID position', (c) => probe(c, dialect.gtidPosition()));
    },

    async waitUntilApplied(input: WaitUntilAppliedInput): Promise<'reached'> {
      const { host, dialect } = lookup(input);
      const p = dialect.waitUntilApplied(input.position, input.timeoutSeconds);
      // The client waits a little longer than the server, so the server's answer decides.
      const result = await on(host, 'wait until GTID applied', (c) =>
        probe(c, p, Math.ceil(input.timeoutSeconds * 1000) + 5000),
      );
      if (result === 'timeout')
        throw nonRetryable(
          FailureType.Timeout,
          `wait until GTID applied on ${host.name}: ${input.position} not applied within ${input.timeoutSeconds} s`,
          { host: host.name, position: input.position },
        );
      return 'reached';
    },

    async promote(input: HostRef): Promise<ChangeResult> {
      const { host, dialect } = lookup(input);
      return on(host, 'promote', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        const facts = await probe(c, dialect.nodeFacts());
        const statements = [
          ...(status ? dialect.stopAndForgetReplication() : []),
          ...(facts.readOnly || facts.superReadOnly ? dialect.readOnlyOff() : []),
        ];
        await execute(c, statements);
        return { host: host.name, changed: statements.length > 0, statements: redacted(statements) };
      });
    },

    async repoint(input: RepointInput): Promise<ChangeResult> {
      const { host, dialect } = lookup(input);
      const source = lookup({ cluster: input.cluster, host: input.source }).host;
      if (source.name === host.name)
        throw nonRetryable(
          FailureType.BadConfiguration,
          `repoint ${host.name}: a host cannot replicate from itself`,
        );
      return on(host, `repoint to ${source.name}`, async (c) => {
        const facts = await probe(c, dialect.nodeFacts());
        const status = await probe(c, dialect.replicationStatus());
        // A replica must never be writable; an old primary arrives here already read-only. The
        // writer of a master-master pair is the one exception: it replicates from its standby.
        const readOnly =
          input.writer || (facts.readOnly && facts.superReadOnly !== false) ? [] : dialect.readOnlyOn(5);
        const sameSource =
          status !== null &&
          status.sourceHost === source.address &&
          status.sourcePort === source.port &&
          status.autoPosition;
        let replication: Statement[];
        if (sameSource && status.ioRunning !== 'no' && status.sqlRunning === 'yes') replication = [];
        else if (sameSource) replication = dialect.startReplication();
        else
          replication = dialect.repoint({
            sourceHost: source.address,
            sourcePort: source.port,
            user: deps.secrets.replication.user,
            password: deps.secrets.replication.password,
            demote: input.demote ?? false,
            connectRetrySeconds: REPLICA_CONNECT_RETRY_SECONDS,
            heartbeatPeriodSeconds: REPLICA_HEARTBEAT_SECONDS,
          });
        const statements = [...readOnly, ...replication];
        await execute(c, statements);
        return { host: host.name, changed: statements.length > 0, statements: redacted(statements) };
      });
    },

    /** Idempotent: a replica whose IO thread is already stopped (or no replica) is left alone. */
    async stopReceiving(input: HostRef): Promise<ChangeResult> {
      const { host, dialect } = lookup(input);
      return on(host, 'stop receiving', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        const statements = status && status.ioRunning !== 'no' ? dialect.stopReceiving() : [];
        await execute(c, statements);
        return { host: host.name, changed: statements.length > 0, statements: redacted(statements) };
      });
    },

    /** Undoes stopReceiving: only an IO thread that is stopped is started. */
    async startReceiving(input: HostRef): Promise<ChangeResult> {
      const { host, dialect } = lookup(input);
      return on(host, 'start receiving', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        const statements = status && status.ioRunning === 'no' ? dialect.startReceiving() : [];
        await execute(c, statements);
        return { host: host.name, changed: statements.length > 0, statements: redacted(statements) };
      });
    },

    async longTransactions(input: LongTransactionsInput): Promise<LongTransaction[]> {
      const { host, dialect } = lookup(input);
      return on(host, 'list long transactions', (c) =>
        probe(c, dialect.longTransactions(input.thresholdSeconds)),
      );
    },
  };

  return { activities, close: () => pools.close() };
}

export type SqlActivities = ReturnType<typeof createSqlActivities>['activities'];
