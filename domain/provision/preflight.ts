// Provisioning's preflight: every reason to refuse, found before the copy touches anything. The
// target must be a host of the cluster, not the primary, answering, not replicating, and empty
// (unless `wipe`); the donor healthy; the method possible on both sides; the target's disk big
// enough. Each refusal names its fix. The copy looks again just before it changes anything
// (lastLook.ts), with the same rules for the method.
import type { GtidOps } from '../gtid';
import type { Cluster } from '../inventory';
import { findPrimary, type Topology } from '../topology';
import { isOlder } from '../version';
import { chooseDonor, type DonorCandidate } from './donor';
import { physicalBlockers } from './lastLook';
import { chooseMethod, DEFAULT_PROVISION_POLICY, type ProvisionMethod, type ProvisionPolicy } from './method';
import { formatBytes } from './progress';

/** The target as inspectProvisionTarget reads it. */
export interface ProvisionTargetFacts {
  reachable: boolean;
  readOnly: boolean | null;
  version: string | null;
  replication: {
    source: string | null;
    ioRunning: string | null;
    sqlRunning: boolean | null;
    lastError: string | null;
  } | null;
  gtidCurrentPos: string;
  gtidBinlogPos: string;
  userSchemas: string[];
  dataBytes: number;
  diskFreeBytes: number | null;
  datadir: string | null;
  serviceConfigured: boolean;
  /** Left by a copy that did not finish: what the target holds is a partial restore of ours. */
  inProgressMarker: { method: string; donor: string; startedAt: string } | null;
}

/** The donor as inspectDonor reads it. */
export interface ProvisionDonorFacts {
  dataBytes: number;
  tables: number;
  rowsEstimate: number;
  version: string;
  datadir: string | null;
  hasMariadbBackup: boolean;
}

export interface ProvisionRequest {
  host: string;
  donor?: string;
  method?: ProvisionMethod;
  allowPrimaryDonor: boolean;
  wipe: boolean;
}

export interface ProvisionDecision {
  primary: string;
  donor: string;
  donorIsPrimary: boolean;
  donors: DonorCandidate[];
  method: ProvisionMethod;
  methodReason: string;
  /** Free disk the target needs for this copy. */
  requiredDiskBytes: number;
  warnings: string[];
}

export type ProvisionPreflight =
  { ok: true; decision: ProvisionDecision } | { ok: false; refusals: string[] };

/** A target outside the cluster: said before anything is asked of it. */
export function unknownTarget(cluster: Cluster, host: string): string | undefined {
  const names = cluster.hosts.map((h) => h.name);
  if (names.includes(host)) return undefined;
  return `unknown host "${host}": cluster ${cluster.name} has ${names.join(', ')}; add it to the inventory's hosts (address, port, ssh.hostKey; workers re-read the file), or give its entry as newHost`;
}

export function preflightProvision(input: {
  cluster: Cluster;
  topology: Topology;
  request: ProvisionRequest;
  /** Absent when the target is not a host of the cluster (it is not inspected then). */
  target?: ProvisionTargetFacts;
  /** Facts of the donor chooseDonor picks; absent when it was not inspected (the choice failed). */
  donor?: ProvisionDonorFacts;
  gtid: GtidOps;
  policy?: ProvisionPolicy;
}): ProvisionPreflight {
  const { cluster, topology, request, target, donor, gtid } = input;
  const policy = input.policy ?? DEFAULT_PROVISION_POLICY;
  const host = request.host;
  const unknown = unknownTarget(cluster, host);
  if (unknown) return { ok: false, refusals: [unknown] };
  if (!target) return { ok: false, refusals: [`${host} was not inspected: nothing is known of it`] };

  const refusals: string[] = [];
  const warnings: string[] = [];
  const found = findPrimary(cluster, topology);
  const primary = 'primary' in found ? found.primary : undefined;
  if ('refusal' in found) refusals.push(`provisioning needs the primary to replicate from: ${found.refusal}`);
  if (host === primary)
    return {
      ok: false,
      refusals: [
        ...refusals,
        `${host} is the primary of ${cluster.name}: provisioning replaces a server's data; name a new host or a broken replica`,
      ],
    };

  // The copy runs its tools on both sides over SSH.
  const noSsh = (name: string) =>
    `provisioning runs commands on ${name} over SSH, and its inventory entry has no ssh (hostKey): add hosts[${name}].ssh`;
  if (!cluster.hosts.find((h) => h.name === host)?.ssh) refusals.push(noSsh(host));

  // The target.
  const node = topology.nodes.find((n) => n.name === host);
  if (!target.reachable)
    refusals.push(
      `${host} does not answer (${node?.error ?? 'no connection'}): start its server and check the worker reaches ${host}`,
    );
  else if (target.readOnly === false)
    refusals.push(`${host} is writable: a replica must be read-only; set read_only=1 in its configuration`);
  const r = target.replication;
  const running =
    r !== null && (r.ioRunning === 'yes' || r.ioRunning === 'connecting' || r.sqlRunning === true);
  if (r && running) {
    const threads = `IO ${r.ioRunning ?? 'unknown'}, SQL ${r.sqlRunning ? 'running' : 'stopped'}`;
    refusals.push(
      r.source === primary && r.ioRunning === 'yes' && r.sqlRunning && !r.lastError
        ? `${host} already replicates from the primary ${primary} (${threads}): it is provisioned; to rebuild it, stop its replication (STOP SLAVE; RESET SLAVE ALL) and run again with wipe: true`
        : `${host} replicates from ${r.source ?? 'a source'} (${threads}${r.lastError ? `, error: ${r.lastError}` : ''}): stop its replication (STOP SLAVE; RESET SLAVE ALL), then run again with wipe: true`,
    );
  }
  const marker = target.inProgressMarker;
  const held: string[] = [];
  if (target.userSchemas.length) held.push(`schemas ${target.userSchemas.join(', ')}`);
  const gtidState = [target.gtidCurrentPos, target.gtidBinlogPos].filter((g) => g.trim() !== '');
  if (gtidState.length) held.push(`GTID state ${[...new Set(gtidState)].join(' / ')}`);
  if (r && !running) held.push(`replication from ${r.source ?? 'a source'} configured (stopped)`);
  if (marker)
    warnings.push(
      `an earlier ${marker.method} copy from ${marker.donor}${marker.startedAt ? ` (started ${marker.startedAt})` : ''} did not finish on ${host}: its partial restore is wiped and the copy made again`,
    );
  else if (held.length && !request.wipe)
    refusals.push(
      `${host} holds data (${held.join('; ')}): provisioning would replace it; pass wipe: true to drop it, or name an empty host`,
    );
  else if (held.length) warnings.push(`wipe: what ${host} holds is dropped (${held.join('; ')})`);

  // The donor.
  const choice = chooseDonor(
    { cluster, topology, primary, target: host },
    { requested: request.donor, allowPrimary: request.allowPrimaryDonor },
  );
  if (!choice.ok) refusals.push(choice.refusal);
  else warnings.push(...choice.warnings);
  if (!choice.ok) return refuseOr(refusals, undefined);
  const donorName = choice.donor;
  if (!cluster.hosts.find((h) => h.name === donorName)?.ssh) refusals.push(noSsh(donorName));
  if (!donor)
    return refuseOr(
      [...refusals, `the donor ${donorName} was not inspected: nothing is known of its data`],
      undefined,
    );

  // The method, on both sides.
  const picked = chooseMethod(donor.dataBytes, request.method, policy.physicalThresholdBytes);
  let method = picked.method;
  let methodReason = picked.reason;
  if (method === 'physical') {
    const blockers = physicalBlockers({
      targetServiceConfigured: target.serviceConfigured,
      donorHasBackupTool: donor.hasMariadbBackup,
      donorDatadir: donor.datadir,
    }).map(
      (b) =>
        ({
          'target-without-service': `a physical copy stops and starts ${host}'s server, and its inventory entry has no service (datadir, startCommand, stopCommand): add hosts[${host}].service`,
          'donor-without-backup-tool': `the backup tool (mariadb-backup) is not installed on the donor ${donorName}: install it there`,
          'donor-datadir-unknown': `the datadir of the donor ${donorName} is unknown`,
        })[b],
    );
    const majorMinor = (v: string | null) => (v ?? '').match(/^\d+\.\d+/)?.[0] ?? '';
    if (target.version && majorMinor(donor.version) !== majorMinor(target.version))
      blockers.push(
        `the donor ${donorName} runs ${donor.version} and ${host} ${target.version}: a physical copy needs the same major version`,
      );
    if (blockers.length && request.method === 'physical')
      refusals.push(...blockers.map((b) => `${b}; or use method: logical`));
    else if (blockers.length) {
      method = 'logical';
      methodReason = `logical: ${picked.reason.replace(/^physical: /, '')} would pick physical, but ${blockers.join('; ')}`;
      warnings.push(
        `physical copy impossible, copying logically (slower on large data): ${blockers.join('; ')}`,
      );
    }
  }

  // The disk: the copy's data, less what a wipe frees.
  const margin = policy.diskMargin[method];
  const required = Math.ceil(donor.dataBytes * margin);
  if (target.diskFreeBytes === null)
    warnings.push(`the free disk on ${host} is unknown (df over SSH failed): not checked`);
  else {
    const freed = request.wipe || marker ? target.dataBytes : 0;
    const available = target.diskFreeBytes + freed;
    if (available < required)
      refusals.push(
        `not enough disk on ${host}: ${formatBytes(target.diskFreeBytes)} free${target.datadir ? ` for ${target.datadir}` : ''}${
          freed ? ` plus ${formatBytes(freed)} its wiped data frees` : ''
        }, needs ${formatBytes(required)} (the donor ${donorName}'s ${formatBytes(donor.dataBytes)} × ${margin} for a ${method} copy): free space on ${host} or grow its disk`,
      );
  }

  // Versions: a replica older than its primary may not apply what the primary writes.
  const primaryVersion = topology.nodes.find((n) => n.name === primary)?.version;
  if (target.version && primaryVersion && isOlder(target.version, primaryVersion))
    warnings.push(
      `${host} runs ${target.version}, older than the primary's ${primaryVersion}: replication from a newer primary is not guaranteed`,
    );
  // A donor ahead of the primary holds transactions the primary lacks: the copy would be errant.
  const donorNode = topology.nodes.find((n) => n.name === donorName);
  const primaryNode = topology.nodes.find((n) => n.name === primary);
  if (donorName !== primary && donorNode?.gtidHistory && primaryNode?.gtidHistory) {
    const errant = gtid.errant(donorNode.gtidHistory, primaryNode.gtidHistory);
    if (errant.errant)
      refusals.push(
        `the donor ${donorName} has errant transactions (${errant.summary}): the copy would carry them to ${host}; pick another with donor: NAME or remove them`,
      );
  }

  if (!primary) return refuseOr(refusals, undefined);
  return refuseOr(refusals, {
    primary,
    donor: donorName,
    donorIsPrimary: choice.isPrimary,
    donors: choice.candidates,
    method,
    methodReason,
    requiredDiskBytes: required,
    warnings,
  });
}

function refuseOr(refusals: string[], decision: ProvisionDecision | undefined): ProvisionPreflight {
  if (refusals.length || !decision) return { ok: false, refusals };
  return { ok: true, decision };
}
