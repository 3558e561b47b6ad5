// The run's directory on a host, beside the datadir and never inside it (a datadir subdirectory
// is a schema): the in-progress marker, the option files with the account, and the lock.
//
// The marker is written on the target before anything is changed there, as a file so a worker
// crash cannot roll it back, and outside the datadir so a physical copy that empties the datadir
// keeps it. While it is there the target is a half-restored server, never a replica: a retry of
// copyBackup that finds it wipes what the last attempt restored and copies again; startReplica
// removes it once replication runs.
import type { Host } from '../../domain/inventory';
import type { ProvisionTargetFacts } from '../../domain/provision';
import { trimSlash } from '../../domain/provision/lastLook';
import { ErrorType, retryable } from '../errors';
import { shellQuote } from '../shellQuote';
import type { ProvisionHosts } from './hosts';
import { tail } from './streams';

export type ProvisionMarker = NonNullable<ProvisionTargetFacts['inProgressMarker']>;

export const MARKER = 'provision.json';
const LOCK = 'lock';
/** How long a target command waits for the previous attempt's leftover (see `locked`). */
export const LOCK_WAIT_SECONDS = 120;

export const workdirOf = (datadir: string) => `${trimSlash(datadir)}.successover`;

/**
 * Runs a target command under the run directory's lock. A worker that dies mid-copy leaves the
 * target's mbstream or mariadb running until it reads the end of its input, and a prepare running
 * to its end: the next attempt's commands wait for them instead of racing them.
 */
export const locked = (workdir: string, command: string) =>
  `flock -w ${LOCK_WAIT_SECONDS} ${shellQuote(`${workdir}/${LOCK}`)} ${command}`;

export async function readMarker(
  hosts: ProvisionHosts,
  host: Host,
  workdir: string,
): Promise<ProvisionMarker | null> {
  const path = `${workdir}/${MARKER}`;
  const r = await hosts
    .ssh(host)
    .exec(host, `if [ -e ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else echo absent; fi`, {
      timeoutMs: 30_000,
    });
  if (r.code !== 0)
    throw retryable(ErrorType.Unreachable, `reading ${path} on ${host.name}: ${tail(r.stderr)}`);
  if (r.stdout.trim() === 'absent') return null;
  try {
    const m = JSON.parse(r.stdout) as Partial<ProvisionMarker>;
    return {
      method: String(m.method ?? 'unknown'),
      donor: String(m.donor ?? 'unknown'),
      startedAt: String(m.startedAt ?? ''),
    };
  } catch {
    // Half written by a crash (written with mv, so unlikely): still a marker.
    return { method: 'unknown', donor: 'unknown', startedAt: '' };
  }
}

export async function writeMarker(
  hosts: ProvisionHosts,
  target: Host,
  workdir: string,
  marker: ProvisionMarker,
) {
  await hosts.writeFile(target, `${workdir}/${MARKER}`, JSON.stringify(marker) + '\n');
}
