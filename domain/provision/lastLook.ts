// copyBackup's last look before its first change on the target. The preflight decided on facts
// read minutes earlier, and the activity can be called without one (tests, a retry after the
// operator changed the host), so the copy asks again, on facts it reads itself, and refuses
// rather than replace what it was not told to. The rules a physical copy needs of its two sides
// are the preflight's (physicalBlockers); each side words them for its own reader.
import type { ProvisionMethod } from './method';

/** What keeps a physical copy from running between these two hosts. */
export type PhysicalBlocker =
  'target-without-service' | 'donor-without-backup-tool' | 'donor-datadir-unknown';

export function physicalBlockers(sides: {
  targetServiceConfigured: boolean;
  donorHasBackupTool: boolean;
  donorDatadir: string | null;
}): PhysicalBlocker[] {
  const blockers: PhysicalBlocker[] = [];
  // It stops the target's server, empties its datadir and starts it again: service says how.
  if (!sides.targetServiceConfigured) blockers.push('target-without-service');
  if (!sides.donorHasBackupTool) blockers.push('donor-without-backup-tool');
  if (!sides.donorDatadir) blockers.push('donor-datadir-unknown');
  return blockers;
}

/** A datadir as the inventory and @@datadir may both spell it: without its trailing slash. */
export const trimSlash = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);

export interface LastLookFacts {
  method: ProvisionMethod;
  wipe: boolean;
  target: {
    name: string;
    reachable: boolean;
    userSchemas: string[];
    /** Its replication, running or stopped; null when it has none. */
    replication: { source: string | null } | null;
    inProgressMarker: { method: string } | null;
    /** The inventory's service.datadir; null when the host has no service. */
    serviceDatadir: string | null;
    /**
     * Read only when a physical copy is about to empty a live server's datadir. Undefined: not
     * read (yet), and the rule that needs it is skipped.
     */
    liveDatadir?: string;
    /** Whether service.datadir is empty or holds a server's files; read only when its server is down. */
    datadirLooksLikeOne?: boolean;
  };
  donor: {
    name: string;
    backupTool: string;
    hasBackupTool: boolean;
    datadir: string | null;
    replicating: boolean;
    logReplicaUpdates: boolean | null;
  };
}

/**
 * The first reason to refuse the copy, undefined when there is none. A partial restore of an
 * earlier attempt (the marker) is never data of the target's own: it is wiped and copied again.
 */
export function lastLook(f: LastLookFacts): string | undefined {
  return reasons(f).next().value ?? undefined;
}

function* reasons({ method, wipe, target, donor }: LastLookFacts): Generator<string> {
  const marker = target.inProgressMarker;
  if (!marker && !wipe && target.userSchemas.length > 0)
    yield `it holds data (schemas ${target.userSchemas.join(', ')}): pass wipe: true to replace it`;
  if (!marker && !wipe && target.replication)
    yield `it replicates from ${target.replication.source ?? 'a source'}: pass wipe: true to replace it`;
  if (method === 'physical') yield* physicalReasons({ wipe, target, donor });
  else if (!target.reachable) {
    if (marker?.method === 'physical')
      yield 'the previous attempt was a physical copy and left its server stopped: retry with method physical';
  } else if (donor.replicating && donor.logReplicaUpdates === false)
    yield `the donor ${donor.name} replicates without log_slave_updates: its binlog position would not cover what it replicated; choose another donor or the physical method`;
}

function* physicalReasons({ wipe, target, donor }: Omit<LastLookFacts, 'method'>): Generator<string> {
  const blockers = physicalBlockers({
    targetServiceConfigured: target.serviceDatadir !== null,
    donorHasBackupTool: donor.hasBackupTool,
    donorDatadir: donor.datadir,
  });
  for (const b of blockers)
    yield {
      'target-without-service': `a physical copy stops and starts its server: add service (datadir, startCommand, stopCommand) to host ${target.name}`,
      'donor-without-backup-tool': `${donor.backupTool} is not installed on the donor ${donor.name}`,
      'donor-datadir-unknown': `the datadir of the donor ${donor.name} is unknown`,
    }[b];
  const configured = target.serviceDatadir;
  // The datadir is emptied: it must be this server's, not a mistyped path.
  if (target.reachable && configured !== null && target.liveDatadir !== undefined)
    if (target.liveDatadir !== trimSlash(configured))
      yield `its server runs in ${target.liveDatadir} but service.datadir says ${configured}: correct the inventory`;
  if (target.reachable || target.inProgressMarker) return;
  if (!wipe)
    yield 'its server does not answer, so whether it holds data is unknown: pass wipe: true to replace it';
  if (configured !== null && target.datadirLooksLikeOne === false)
    yield `service.datadir ${configured} is neither empty nor a server's datadir: correct the inventory`;
}
