// Catch-up before promotion: the chosen candidate first applies what its relay log already holds
// (promotion discards the relay log), then takes from the other replicas what it still lacks, by
// replicating from the most advanced one until it has that replica's position (ClusterControl,
// seed 002). Replicas whose history split from the candidate's are reported, never used: copying
// from them would mix two histories.
import { mariadbStateToPos, formatMariadbGtidList, parseMariadbGtidPos, type GtidOps } from '../gtid';
import {
  mysqlGtidCount,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  parseMysqlGtidSet,
  formatMysqlGtidSet,
} from '../gtid';
import { readGtidOf } from '../ranking';
import { PositionUnknown } from './errors';
import type { EmergencyNode } from './types';

export type CatchUpStep =
  | {
      kind: 'apply-relay-log';
      host: string;
      /** Wait until this (what the relay log received) is applied. */
      position: string;
      /** null waits forever (relayLogWaitSeconds -1). */
      timeoutSeconds: number | null;
      detail: string;
    }
  | {
      kind: 'replicate-from';
      host: string;
      source: string;
      /** Replicate until the host has this position (the source's gtidExecuted), then stop. */
      until: string;
      detail: string;
    };

export interface CatchUpPlan {
  candidate: string;
  steps: CatchUpStep[];
  /** The candidate's position once every step is done. */
  expected: string;
  /** Replicas holding something the candidate lacks that are not used, and why. */
  notUsed: { name: string; reason: string }[];
  /** Reachable replicas (errant holders aside) with transactions the plan does not bring. */
  lacking: Lacking[];
  warnings: string[];
}

export interface CatchUpInput {
  gtid: GtidOps;
  candidate: EmergencyNode;
  /** The other replicas (not the dead primary). */
  others: readonly EmergencyNode[];
  /** policy.relayLogWaitSeconds: -1 forever, 0 not at all, N seconds at most. */
  relayLogWaitSeconds: number;
  /** Replicas with errant transactions: copying from them would import those. */
  errant?: readonly string[];
  /**
   * MySQL: each replica's errant GTID set (ReplicaErrant.gtids). A candidate's own errant writes
   * (kept under errantGtids: ignore) do not make an otherwise ahead replica look diverged.
   */
  errantGtids?: Readonly<Record<string, string>>;
}

/** What a reachable replica holds that the candidate will still lack once every step is done. */
export interface Lacking {
  name: string;
  gtids: string;
}

/**
 * The steps, in order, and what the candidate would still lack afterwards. Other replicas count
 * with what they received, not only what they applied: semi-sync acknowledges a write once it is
 * in one replica's relay log, and that replica's SQL thread applies it while the run goes on.
 */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { gtid, candidate, others, relayLogWaitSeconds, errant = [] } = input;
  if (candidate.gtidExecuted === undefined)
    throw new PositionUnknown(candidate.name, `plan the catch-up of ${candidate.name}`);
  const steps: CatchUpStep[] = [];
  const warnings: string[] = [];
  const notUsed: CatchUpPlan['notUsed'] = [];
  let expected = replicatedPosition(gtid, candidate, input.errantGtids, false);

  const received = candidate.relay?.received;
  if (received === undefined || received.trim() === '') {
    warnings.push(`${candidate.name}'s received position is unknown: its relay log is not waited for`);
  } else {
    readGtidOf(candidate.name, RECEIVED, () => gtid.normalize(received));
    const pending = gtid.missing(expected, received);
    const what = describePending(gtid, pending);
    if (pending === '') {
      // Nothing received is left unapplied.
    } else if (relayLogWaitSeconds === 0) {
      warnings.push(
        `relayLogWaitSeconds is 0: ${what} that ${candidate.name} received but has not applied (${pending}) are discarded when it is promoted`,
      );
    } else {
      const timeoutSeconds = relayLogWaitSeconds < 0 ? null : relayLogWaitSeconds;
      steps.push({
        kind: 'apply-relay-log',
        host: candidate.name,
        position: gtid.normalize(received),
        timeoutSeconds,
        detail: `let ${candidate.name} apply ${what} from its relay log (${pending}), ${
          timeoutSeconds === null ? 'waiting as long as it takes' : `waiting at most ${timeoutSeconds} s`
        }`,
      });
      expected = unionPositions(gtid, expected, received);
    }
  }

  const peers = others.filter((n) => n.name !== candidate.name);
  for (const n of peers)
    if (!n.reachable)
      notUsed.push({
        name: n.name,
        reason: `unreachable (${n.error ?? 'no answer'}): what it holds is unknown`,
      });

  const holds = new Map<string, string>();
  for (const n of peers)
    if (n.reachable && n.gtidExecuted !== undefined)
      holds.set(n.name, replicatedPosition(gtid, n, input.errantGtids, true));
  const usable: { name: string; gtid: string }[] = [];
  for (const [name, position] of holds) {
    const relation = gtid.compare(position, expected);
    if (relation !== 'ahead' && relation !== 'diverged') continue;
    if (relation === 'diverged') {
      notUsed.push({
        name,
        reason: `diverged from ${candidate.name}: each has transactions the other lacks`,
      });
    } else if (errant.includes(name)) {
      notUsed.push({ name, reason: 'has errant transactions: replicating from it would copy them' });
    } else {
      usable.push({ name, gtid: position });
    }
  }
  for (const name of gtid.rank(usable).order) {
    const position = holds.get(name)!;
    if (gtid.contains(expected, position)) continue; // a more advanced source already brings it
    if (!gtid.contains(position, expected)) {
      notUsed.push({
        name,
        reason: `diverged from the position ${candidate.name} reaches through the replicas used before it`,
      });
      continue;
    }
    const lacking = gtid.missing(expected, position);
    const source = peers.find((n) => n.name === name)!;
    const unapplied = source.gtidExecuted ? gtid.missing(source.gtidExecuted, position) : '';
    steps.push({
      kind: 'replicate-from',
      host: candidate.name,
      source: name,
      until: gtid.normalize(position),
      detail: `replicate ${candidate.name} from ${name} until it has ${name}'s position: ${describePending(gtid, lacking)} it lacks (${lacking})${
        unapplied ? `; ${name} first applies what its relay log holds (${unapplied})` : ''
      }`,
    });
    expected = gtid.normalize(position);
  }
  const lacking: Lacking[] = [];
  for (const [name, position] of holds) {
    const gtids = gtid.missing(expected, position);
    if (gtids !== '' && !errant.includes(name)) lacking.push({ name, gtids });
  }
  return { candidate: candidate.name, steps, expected, notUsed, lacking, warnings };
}

/** What a replica will have applied once its SQL thread has worked through its relay log. */
export function eventualPosition(gtid: GtidOps, n: EmergencyNode): string {
  const received = n.relay?.received;
  const executed = readGtidOf(n.name, EXECUTED, () => gtid.normalize(n.gtidExecuted ?? ''));
  return received && received.trim() !== ''
    ? readGtidOf(n.name, RECEIVED, () => unionPositions(gtid, executed, received))
    : executed;
}

const EXECUTED = 'GTID position';
const RECEIVED = 'received position (Gtid_IO_Pos / Retrieved_Gtid_Set)';
const APPLIED = 'replica position (@@gtid_slave_pos)';

/**
 * What a replica holds as replication sees it: what it applied, plus what it received when
 * `withReceived` (its SQL thread applies that on its own), less its own writes (MariaDB: the slave
 * position; MySQL: its errant set). That is what it asks a new source for, or can serve a peer.
 */
export function replicatedPosition(
  gtid: GtidOps,
  n: EmergencyNode,
  errantGtids: Readonly<Record<string, string>> = {},
  withReceived = true,
): string {
  const slavePos = gtid.flavor === 'mariadb' && n.relay?.applied;
  let position = readGtidOf(n.name, slavePos ? APPLIED : EXECUTED, () =>
    gtid.normalize(slavePos ? slavePos : (n.gtidExecuted ?? '')),
  );
  const own = errantGtids[n.name];
  if (gtid.flavor === 'mysql' && own)
    position = readGtidOf(n.name, 'errant GTID set', () =>
      formatMysqlGtidSet(mysqlGtidSubtract(parseMysqlGtidSet(position), parseMysqlGtidSet(own))),
    );
  const received = n.relay?.received;
  return withReceived && received && received.trim() !== ''
    ? readGtidOf(n.name, RECEIVED, () => unionPositions(gtid, position, received))
    : position;
}

function describePending(gtid: GtidOps, pending: string): string {
  if (gtid.flavor !== 'mysql') return 'the transactions';
  const n = mysqlGtidCount(parseMysqlGtidSet(pending));
  return `${n} transaction${n === 1 ? '' : 's'}`;
}

/** What a node has once it applied both positions. */
export function unionPositions(gtid: GtidOps, a: string, b: string): string {
  if (gtid.flavor === 'mysql')
    return formatMysqlGtidSet(mysqlGtidUnion(parseMysqlGtidSet(a), parseMysqlGtidSet(b)));
  // MariaDB: per domain the further of the two (seq_no grows within a domain).
  return formatMariadbGtidList(mariadbStateToPos([...parseMariadbGtidPos(a), ...parseMariadbGtidPos(b)]));
}
