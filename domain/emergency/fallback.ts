// Never promote a node that lacks transactions another reachable replica has (issue: a promoted
// candidate behind db3 broke db3's replication and lost what only db3 had). When the chosen
// candidate cannot be brought level, the most advanced replica the promotion rules allow is
// promoted instead: it needs nothing from the others. Promoting behind happens only on the
// explicit policy `catchUp: promote-anyway`, and then every missing GTID is listed.
import type { GtidOps } from '../gtid';
import type { Flavor } from '../inventory';
import type { Ranking } from '../ranking';
import { planCatchUp, replicatedPosition, type Lacking } from './catchUp';
import type { ReplicaErrant } from './errant';
import type { EmergencyNode } from './types';

export type CatchUpPolicy = 'most-advanced' | 'promote-anyway';

export type Promotion = { ok: true; candidate: string; warnings: string[] } | { ok: false; reason: string };

export interface WhomToPromoteInput {
  gtid: GtidOps;
  /** Eligible candidates in rank order come first (rankCandidates). */
  ranking: Ranking;
  /** The candidate chosen so far. */
  candidate: string;
  /** The dead primary's replicas, as last read. */
  replicas: readonly EmergencyNode[];
  /** What the candidate still lacks after its catch-up, per replica holding it. */
  lacking: readonly Lacking[];
  policy: CatchUpPolicy;
  /** Why the candidate lacks it (a timeout, a diverged source): said in the warning. */
  why: string;
  errant?: readonly string[];
  errantGtids?: Readonly<Record<string, string>>;
}

export function whomToPromote(input: WhomToPromoteInput): Promotion {
  const { gtid, ranking, candidate, replicas, lacking, policy, why, errant = [] } = input;
  if (lacking.length === 0) return { ok: true, candidate, warnings: [] };
  const listed = lacking.map((l) => `${l.name} has ${l.gtids}`).join('; ');
  const holds = new Map(
    replicas
      .filter((n) => n.reachable && n.gtidExecuted !== undefined && !errant.includes(n.name))
      .map((n) => [n.name, replicatedPosition(gtid, n, input.errantGtids)] as const),
  );
  const eligible = ranking.candidates.filter((c) => c.eligible && holds.has(c.name)).map((c) => c.name);
  const level = eligible.find((name) =>
    [...holds].every(([other, position]) => other === name || gtid.contains(holds.get(name)!, position)),
  );
  if (level !== undefined)
    return {
      ok: true,
      candidate: level,
      warnings:
        level === candidate
          ? []
          : [
              `${candidate} would lack transactions (${listed}) because ${why}: ${level}, the most advanced replica the promotion rules allow, is promoted instead`,
            ],
    };
  if (policy === 'promote-anyway')
    return {
      ok: true,
      candidate,
      warnings: [
        `${candidate} promoted without transactions other replicas have (policy catchUp: promote-anyway), because ${why}: ${listed}; those replicas cannot replicate from it until they are rebuilt or the transactions are reconciled`,
      ],
    };
  return {
    ok: false,
    reason: `${candidate} lacks transactions other replicas have (${listed}) because ${why}, and no replica the promotion rules allow has them all: allow the most advanced one, or set policy catchUp: promote-anyway to promote behind it`,
  };
}

/** The errant-GTID facts the catch-up needs: who holds errant ones, and (MySQL) which they are. */
export interface ErrantFacts {
  names: string[];
  gtids: Record<string, string>;
}

export function errantFacts(reports: readonly ReplicaErrant[], flavor: Flavor): ErrantFacts {
  const errant = reports.filter((r) => r.errant);
  return {
    names: errant.map((r) => r.name),
    // MariaDB compares slave positions, which leave a replica's own writes out already.
    gtids: flavor === 'mysql' ? Object.fromEntries(errant.map((r) => [r.name, r.gtids])) : {},
  };
}

/**
 * Before anything changes: the chosen candidate must be able to take, by catching up, everything
 * the dead primary's other replicas hold; else the most advanced allowed one is chosen instead,
 * or the run refuses with the GTIDs (promote-anyway aside).
 */
export function levelCandidate(input: {
  gtid: GtidOps;
  ranking: Ranking;
  candidate: string;
  replicas: readonly EmergencyNode[];
  relayLogWaitSeconds: number;
  policy: CatchUpPolicy;
  errant: ErrantFacts;
}): Promotion {
  const { gtid, candidate, replicas, errant } = input;
  const chosen = replicas.find((n) => n.name === candidate);
  if (!chosen) return { ok: true, candidate, warnings: [] };
  const { lacking } = planCatchUp({
    gtid,
    candidate: chosen,
    others: replicas.filter((n) => n.name !== candidate),
    relayLogWaitSeconds: input.relayLogWaitSeconds,
    errant: errant.names,
    errantGtids: errant.gtids,
  });
  return whomToPromote({
    gtid,
    ranking: input.ranking,
    candidate,
    replicas,
    lacking,
    policy: input.policy,
    why: 'no replica it could copy from holds them',
    errant: errant.names,
    errantGtids: errant.gtids,
  });
}
