// Checksum: a provisioned replica compared with another replica of the same primary, table by
// table, both held at one GTID position.
import { Context, log } from '@temporalio/activity';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dialect, ReplicationStatus } from '../../domain/dialects';
import type { Statement } from '../../domain/dialects/statement';
import { quoteIdentifier } from '../../domain/dialects/escape';
import { gtidOps } from '../../domain/gtid';
import { gtidCommonPosition } from '../../domain/gtid/distance';
import type { Cluster, Host } from '../../domain/inventory';
import { ErrorType, nonRetryable, retryable } from '../errors';
import { hostOf } from '../lookup';
import { execute, probe } from '../sql/run';
import { errorMessage } from '../traffic/common';
import type { ProvisionHosts } from './hosts';

export interface TableComparison {
  name: string;
  reference: string | null;
  host: string | null;
  equal: boolean;
  rows: number;
}

export interface ChecksumResult {
  position: string;
  tables: TableComparison[];
  equal: boolean;
}

const UNTIL_TIMEOUT_MS = 120_000;
const RESTART_TRIES = 3;
const RESTART_PAUSE_MS = 1000;

export function createChecksumActivities(hosts: ProvisionHosts) {
  return {
    /**
     * Compares every user table of two replicas of one primary at one GTID position P.
     *
     * Why a replica stopped at P holds exactly what the primary held at P: the primary's binlog
     * is its commits in order, and a GTID position names a prefix of that order (per domain, every
     * transaction up to that seq_no). A replica applies the binlog in that order and writes
     * nothing of its own (read-only, no errant GTIDs), so once its SQL thread has applied exactly
     * the prefix P and stopped, its tables are the primary's tables right after P committed.
     * Two replicas stopped at the same P must therefore be identical, however much the primary
     * has written since; a difference is a copy that went wrong.
     *
     * Replication is started again on both at the end, whatever happened (restartPlan).
     */
    async checksumAtCommonPosition(input: {
      cluster: string;
      host: string;
      reference: string;
      tables?: string[];
    }): Promise<ChecksumResult> {
      const ctx = Context.current();
      const { cluster, host, dialect } = hosts.lookup(input);
      const reference = hostOf(cluster, input.reference);
      if (reference.name === host.name)
        throw nonRetryable(
          ErrorType.BadConfiguration,
          `checksumAtCommonPosition: ${host.name} cannot be its own reference`,
        );
      const both = [host, reference];
      const tables = input.tables?.map(parseTableName);
      // Every second, also while one CHECKSUM TABLE of a big table runs.
      const progress = { phase: 'stop replication' };
      const beating = setInterval(() => ctx.heartbeat({ ...progress }), 1000);
      try {
        const position = await holdAtCommonPosition(hosts, cluster, dialect, both, progress);
        return await compareTables(hosts, dialect, both, tables, progress, position);
      } finally {
        clearInterval(beating);
        // Always: both replicate normally again. The workflow calls restartChecksumReplicas too
        // when this fails, for the attempt whose worker died before it got here.
        await Promise.all(both.map((h) => restartPatiently(hosts, dialect, h)));
      }
    },

    /**
     * Starts replication again on the checksum's two replicas (the workflow's compensation when
     * the checksum failed): idempotent, so it runs whether or not an attempt stopped them, and
     * after an attempt that is still finishing on a worker cut off from Temporal.
     */
    async restartChecksumReplicas(input: {
      cluster: string;
      host: string;
      reference: string;
    }): Promise<RestartReport[]> {
      const { cluster, host, dialect } = hosts.lookup(input);
      const reference = hostOf(cluster, input.reference);
      const reports = await Promise.allSettled([reference, host].map((h) => restart(hosts, dialect, h)));
      const failed = reports.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      // Retried by Temporal: a replica that did not answer now may answer in a second.
      if (failed.length) throw failed[0];
      return reports.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    },
  };
}

export interface RestartReport {
  host: string;
  restarted: boolean;
  detail: string;
}

/**
 * What restarting a replica the checksum may have stopped means, from its replication status. A
 * STOP before the START, always: a replica still applying towards the common position (START
 * UNTIL) stays running after a plain START, keeps its UNTIL and stops there for good. One that
 * stopped on an SQL error is left as it is: starting it hides nothing and fixes nothing.
 */
export function restartPlan(
  dialect: Pick<Dialect, 'startReplication'> & { backup: Pick<Dialect['backup'], 'stopApplying'> },
  status: Pick<ReplicationStatus, 'lastSqlError'> | null,
): { statements: Statement[] } | { leave: string } {
  if (!status) return { leave: 'not a replica: nothing to start' };
  if (status.lastSqlError)
    return { leave: `its SQL thread stopped on an error, left for a human: ${status.lastSqlError}` };
  return { statements: [...dialect.backup.stopApplying(), ...dialect.startReplication()] };
}

async function restart(hosts: ProvisionHosts, dialect: Dialect, h: Host): Promise<RestartReport> {
  return hosts.on(h, 'restart replication', async (c) => {
    const plan = restartPlan(dialect, await probe(c, dialect.replicationStatus()));
    if ('leave' in plan) return { host: h.name, restarted: false, detail: plan.leave };
    await execute(c, plan.statements);
    return { host: h.name, restarted: true, detail: 'replicates again' };
  });
}

/** `restart`, tried a few times: the activity's last step must not give up on one lost connection. */
async function restartPatiently(hosts: ProvisionHosts, dialect: Dialect, h: Host): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await restart(hosts, dialect, h);
      return;
    } catch (e) {
      if (attempt >= RESTART_TRIES) {
        // The workflow's restartChecksumReplicas tries again; the checksum's own outcome stands.
        log.warn(`checksum: replication on ${h.name} not started again: ${errorMessage(e)}`);
        return;
      }
      await sleep(RESTART_PAUSE_MS);
    }
  }
}

/**
 * Holds both still and brings them to the position both can reach, the more advanced of the two:
 * the one behind applies up to it and stops there; one already there stays stopped.
 */
async function holdAtCommonPosition(
  hosts: ProvisionHosts,
  cluster: Cluster,
  dialect: Dialect,
  both: Host[],
  progress: { phase: string },
): Promise<string> {
  const stopped = await Promise.all(
    both.map((h) =>
      hosts.on(h, 'stop replication', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        if (!status)
          throw nonRetryable(ErrorType.Refused, `checksumAtCommonPosition: ${h.name} is not a replica`);
        await execute(c, dialect.backup.stopApplying());
        return (await probe(c, dialect.replicationStatus()))?.gtidExecuted ?? status.gtidExecuted;
      }),
    ),
  );
  let position: string;
  try {
    position = gtidCommonPosition(cluster.flavor, stopped[0], stopped[1]);
  } catch (e) {
    throw nonRetryable(ErrorType.Refused, `checksumAtCommonPosition: ${errorMessage(e)}`);
  }
  const ops = gtidOps(cluster.flavor);
  await Promise.all(
    both.map(async (h, i) => {
      if (ops.compare(stopped[i], position) === 'equal') return;
      await hosts.on(h, 'start replication until the common position', (c) =>
        execute(c, dialect.backup.startUntil(position)),
      );
      const until = Date.now() + UNTIL_TIMEOUT_MS;
      for (;;) {
        progress.phase = `${h.name} to ${position}`;
        const s = await hosts.on(h, 'wait for the common position', (c) =>
          probe(c, dialect.replicationStatus()),
        );
        if (s?.lastSqlError)
          throw nonRetryable(
            ErrorType.SqlError,
            `${h.name} stopped with an error before ${position}: ${s.lastSqlError}`,
          );
        if (s && s.sqlRunning === 'no') {
          if (ops.compare(s.gtidExecuted, position) === 'equal') break;
          throw retryable(
            ErrorType.Unreachable,
            `${h.name} stopped at ${s.gtidExecuted}, not at ${position}`,
          );
        }
        if (Date.now() > until)
          throw retryable(
            ErrorType.Timeout,
            `${h.name} did not reach ${position} within ${UNTIL_TIMEOUT_MS / 1000} s`,
          );
        await sleep(100);
      }
    }),
  );
  return position;
}

/** Every table on both sides, the union of both lists: one missing on a side differs. */
async function compareTables(
  hosts: ProvisionHosts,
  dialect: Dialect,
  both: Host[],
  tables: { schema: string; table: string }[] | undefined,
  progress: { phase: string },
  position: string,
): Promise<ChecksumResult> {
  const lists = await Promise.all(
    both.map((h) => hosts.on(h, 'list tables', (c) => probe(c, dialect.backup.userTables()))),
  );
  const names = tables
    ? tables.map((t) => `${t.schema}.${t.table}`)
    : [...new Set([...lists[0], ...lists[1]])].sort();
  const out: TableComparison[] = [];
  for (const name of names) {
    progress.phase = `checksum ${name}`;
    const { schema, table } = parseTableName(name);
    const [mine, ref] = await Promise.all(
      both.map((h, i) =>
        lists[i].includes(name) || tables
          ? hosts.on(h, `checksum ${name}`, (c) => probe(c, dialect.backup.checksumTable(schema, table)))
          : Promise.resolve(null),
      ),
    );
    const equal = mine !== null && ref !== null && mine.checksum === ref.checksum && mine.rows === ref.rows;
    out.push({
      name,
      reference: ref?.checksum ?? null,
      host: mine?.checksum ?? null,
      equal,
      rows: mine?.rows ?? 0,
    });
  }
  return { position, tables: out, equal: out.every((t) => t.equal) };
}

function parseTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1)
    throw nonRetryable(ErrorType.BadConfiguration, `table ${JSON.stringify(name)}: expected "schema.table"`);
  // Identifiers are escaped where they are used; this only checks the shape.
  quoteIdentifier(name.slice(0, dot));
  return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}
