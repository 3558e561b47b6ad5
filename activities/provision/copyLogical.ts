// Copy logical: a consistent dump of the donor's user schemas, restored by the target's client as
// it streams. The worker reads the dump on its way through: it counts the rows and takes the GTID
// position the dump carries, which mariadb-dump's --master-data reads under FLUSH TABLES WITH READ
// LOCK as the snapshot starts. On a donor that is a replica that position is right only with
// log_slave_updates (its binlog then holds every replicated transaction with its original GTID);
// the last look refuses a donor without it. Not --dump-slave: it stops the donor's SQL thread for
// the whole dump.
import { ErrorType, nonRetryable } from '../errors';
import { execute, probe } from '../sql/run';
import { shellCommand } from '../shellQuote';
import { copyAccounts } from './accounts';
import type { CopyOutcome, CopyRun } from './copyRun';
import { DumpScanner } from './dumpScanner';
import { setPosition } from './restorePosition';
import { pipe } from './streams';
import { LOCK_WAIT_SECONDS, locked } from './workdir';

export async function copyLogical(run: CopyRun): Promise<CopyOutcome> {
  const { hosts, donor, target, dialect, workdir } = run;
  const backup = dialect.backup;
  // A restore client of an interrupted attempt may still be applying what it had read.
  await run.phase('wait for a previous attempt', () =>
    hosts.remote(
      target,
      'wait for a previous restore',
      locked(workdir, 'true'),
      (LOCK_WAIT_SECONDS + 10) * 1000,
    ),
  );
  await run.phase('prepare target', () => emptyForRestore(run));
  const donorSchemas = (
    await hosts.on(donor, 'list user schemas', (c) => probe(c, backup.userSchemas()))
  ).map((s) => s.name);
  const scanner = new DumpScanner(backup);
  await run.phase('stream', () =>
    pipe(hosts.openChannel, {
      donor,
      donorCommand: shellCommand(backup.logicalDump(run.donorEndpoint, donorSchemas)),
      target,
      targetCommand: locked(workdir, shellCommand(backup.restoreClient(run.targetEndpoint))),
      prelude: backup.restorePrelude(),
      onData: (chunk) => {
        run.counted(chunk);
        scanner.push(chunk);
      },
      signal: run.signal,
      stallMs: run.stallMs,
    }),
  );
  scanner.end();
  if (scanner.position === null)
    throw nonRetryable(
      ErrorType.SqlError,
      `the dump from ${donor.name} carried no GTID position (${backup.dumpPositionMarker}...): is binary logging on there?`,
    );
  const position = scanner.position;
  const accounts = await run.phase('accounts', () => copyAccounts(hosts, donor, target, dialect));
  await run.phase('set position', () =>
    setPosition(hosts, target, dialect, position, { writableDuringRestore: true }),
  );
  return { position, rows: scanner.rows, accounts };
}

/**
 * Drops the target's user schemas (a partial restore of an earlier attempt, or what wipe
 * replaces), resets its replication and GTID state, and lets the worker's account write.
 */
async function emptyForRestore({ hosts, target, dialect }: CopyRun): Promise<void> {
  const backup = dialect.backup;
  await hosts.on(target, 'prepare the target for a restore', async (c) => {
    const schemas = await probe(c, backup.userSchemas());
    const replicating = (await probe(c, dialect.replicationStatus())) !== null;
    const version = (await probe(c, dialect.nodeFacts())).version;
    // Dropped unlogged: the new replica must have no GTIDs of its own.
    await execute(c, [{ sql: 'SET SESSION sql_log_bin=0', redacted: 'SET SESSION sql_log_bin=0' }]);
    try {
      await execute(
        c,
        schemas.map((s) => backup.dropSchema(s.name)),
      );
    } finally {
      await execute(c, [{ sql: 'SET SESSION sql_log_bin=1', redacted: 'SET SESSION sql_log_bin=1' }]);
    }
    await execute(c, [...backup.resetForRestore(version, replicating), ...backup.restoreWritable()]);
  });
}
