// Catch-up before promotion: the chosen candidate first applies what its relay log already holds
// (promotion discards the relay log), then takes from the other replicas what it still lacks, by
// replicating from the most advanced one until it has that replica's position (ClusterControl,
// seed 002). Replicas whose history split from the candidate's are reported, never used: copying
// from them would mix two histories.
import { mariadbStateToPos, formatMariadbGtidList, parseMariadbGtidPos, type GtidOps } from '../gtid';
import { mysqlGtidCount, mysqlGtidUnion, parseMysqlGtidSet, formatMysqlGtidSet } from '../gtid';
import { moreAdvancedThan } from '../ranking';
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
}

/**
 * The steps, in order. They are planned from positions read before the relay-log wait: if that wait
 * times out, the workflow reads the positions again and plans anew (this is cheap and pure).
 */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { gtid, candidate, others, relayLogWaitSeconds, errant = [] } = input;
  if (candidate.gtidExecuted === undefined)
    throw new Error(`cannot plan the catch-up of ${candidate.name}: its GTID position is unknown`);
  const steps: CatchUpStep[] = [];
  const warnings: string[] = [];
  const notUsed: CatchUpPlan['notUsed'] = [];
  let expected = gtid.normalize(candidate.gtidExecuted);

  const received = candidate.relay?.received;
  if (received === undefined || received.trim() === '') {
    warnings.push(`${candidate.name}'s received position is unknown: its relay log is not waited for`);
  } else {
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
      expected = union(gtid, expected, received);
    }
  }

  for (const n of others)
    if (n.name !== candidate.name && !n.reachable)
      notUsed.push({
        name: n.name,
        reason: `unreachable (${n.error ?? 'no answer'}): what it holds is unknown`,
      });

  const ahead = moreAdvancedThan({ ...candidate, gtidExecuted: expected }, [...others], gtid);
  const usable: EmergencyNode[] = [];
  for (const a of ahead) {
    if (a.relation === 'diverged') {
      notUsed.push({
        name: a.name,
        reason: `diverged from ${candidate.name}: each has transactions the other lacks`,
      });
    } else if (errant.includes(a.name)) {
      notUsed.push({ name: a.name, reason: 'has errant transactions: replicating from it would copy them' });
    } else {
      usable.push(others.find((o) => o.name === a.name)!);
    }
  }
  const order = gtid.rank(usable.map((n) => ({ name: n.name, gtid: n.gtidExecuted! }))).order;
  for (const name of order) {
    const source = usable.find((n) => n.name === name)!;
    const position = source.gtidExecuted!;
    if (gtid.contains(expected, position)) continue; // a more advanced source already brings it
    if (!gtid.contains(position, expected)) {
      notUsed.push({
        name,
        reason: `diverged from the position ${candidate.name} reaches through the replicas used before it`,
      });
      continue;
    }
    const lacking = gtid.missing(expected, position);
    steps.push({
      kind: 'replicate-from',
      host: candidate.name,
      source: name,
      until: gtid.normalize(position),
      detail: `replicate ${candidate.name} from ${name} until it has ${name}'s position: ${describePending(gtid, lacking)} it lacks (${lacking})`,
    });
    expected = gtid.normalize(position);
  }
  for (const n of others) {
    const r = n.relay?.received;
    if (!n.reachable || n.name === candidate.name || n.gtidExecuted === undefined || !r) continue;
    const unapplied = gtid.missing(n.gtidExecuted, r);
    if (unapplied !== '')
      warnings.push(
        `${n.name} has received ${describePending(gtid, unapplied)} it has not applied (${unapplied}): it can only serve what it has applied`,
      );
  }
  return { candidate: candidate.name, steps, expected, notUsed, warnings };
}

function describePending(gtid: GtidOps, pending: string): string {
  if (gtid.flavor !== 'mysql') return 'the transactions';
  const n = mysqlGtidCount(parseMysqlGtidSet(pending));
  return `${n} transaction${n === 1 ? '' : 's'}`;
}

/** What a node has once it applied both positions. */
function union(gtid: GtidOps, a: string, b: string): string {
  if (gtid.flavor === 'mysql')
    return formatMysqlGtidSet(mysqlGtidUnion(parseMysqlGtidSet(a), parseMysqlGtidSet(b)));
  // MariaDB: per domain the further of the two (seq_no grows within a domain).
  return formatMariadbGtidList(mariadbStateToPos([...parseMariadbGtidPos(a), ...parseMariadbGtidPos(b)]));
}
