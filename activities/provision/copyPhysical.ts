// Copy physical: the target's server stopped, its datadir emptied and filled from the donor's
// backup tool streaming the running server's files, prepared, given to the server's user, and
// started again. The position is the GTID the tool wrote beside the files, read under BACKUP
// STAGE BLOCK_COMMIT. The donor's mysql schema comes whole, accounts included.
import { shellCommand, shellQuote } from '../shellQuote';
import type { CopyOutcome, CopyRun } from './copyRun';
import { setPosition } from './restorePosition';
import {
  portOpen,
  SERVER_STOP_TIMEOUT_MS,
  serverProcessIn,
  startServer,
  stopServer,
  type ServiceSpec,
} from './server';
import { pipe } from './streams';
import { locked } from './workdir';
import { trimSlash } from '../../domain/provision/lastLook';

/** How long mariadb-backup --prepare may take: it applies the redo log the backup copied. */
const PREPARE_TIMEOUT_MS = 6 * 3600_000;

export async function copyPhysical(
  run: CopyRun,
  o: { service: ServiceSpec; targetReachable: boolean; donorDatadir: string },
): Promise<CopyOutcome> {
  const { hosts, donor, target, dialect, workdir } = run;
  const backup = dialect.backup;
  const datadir = trimSlash(o.service.datadir);
  await run.phase('stop target', async () => {
    if (o.targetReachable || (await portOpen(target)) || (await serverProcessIn(hosts, target, datadir)))
      await stopServer(hosts, target, o.service, datadir);
  });
  await run.phase('empty datadir', () =>
    hosts.remote(
      target,
      'empty the datadir',
      locked(workdir, `find ${shellQuote(datadir)} -mindepth 1 -delete`),
      SERVER_STOP_TIMEOUT_MS,
    ),
  );
  await run.phase('stream', () =>
    pipe(hosts.openChannel, {
      donor,
      donorCommand: shellCommand(backup.physicalBackup(run.donorEndpoint, o.donorDatadir)),
      target,
      targetCommand: locked(workdir, shellCommand(backup.physicalExtract(datadir))),
      onData: run.counted,
      signal: run.signal,
      stallMs: run.stallMs,
    }),
  );
  await run.phase('prepare', () =>
    hosts.remote(
      target,
      `${backup.physicalTools.donor} --prepare`,
      locked(workdir, `${shellCommand(backup.physicalPrepare(datadir))} 2>&1`),
      PREPARE_TIMEOUT_MS,
    ),
  );
  const info = await run.phase('read backup position', async () => {
    const names = backup.binlogInfoFiles.map((f) => shellQuote(`${datadir}/${f}`)).join(' ');
    const text = await hosts.remote(
      target,
      'read the backup position',
      `for f in ${names}; do if [ -e "$f" ]; then cat "$f"; exit 0; fi; done; exit 1`,
    );
    return backup.parseBinlogInfo(text);
  });
  await run.phase('ownership', () =>
    hosts.remote(
      target,
      'remove the donor state and give the files to the server',
      [
        ...backup.donorStateFiles.map((f) => `rm -f ${shellQuote(`${datadir}/${f}`)}`),
        // Owned by whoever owns the datadir itself, which was kept: the server's user.
        `chown -R "$(stat -c %u:%g ${shellQuote(datadir)})" ${shellQuote(datadir)}`,
      ].join(' && '),
      SERVER_STOP_TIMEOUT_MS,
    ),
  );
  await run.phase('start target', () => startServer(hosts, target, o.service));
  await run.phase('set position', () =>
    setPosition(hosts, target, dialect, info.gtid, { writableDuringRestore: false }),
  );
  return { position: info.gtid, rows: null, accounts: null };
}
