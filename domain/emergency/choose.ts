// Which replica to promote when the primary is dead: the shared ranking first (promotion rules,
// allow/deny, health, GTID advancement, lag, data center), then the errant-GTID policy on the one
// it chose. Decided before anything is fenced, so a refusal leaves the cluster as it was.
import type { GtidOps } from '../gtid';
import type { Cluster } from '../inventory';
import { rankCandidates, type Ranking } from '../ranking';
import { eventualPosition } from './catchUp';
import { deadPrimaryIdentity, errantAcrossReplicas, errantDecision, type ReplicaErrant } from './errant';
import type { EmergencyNode } from './types';

export interface ChooseInput {
  cluster: Cluster;
  /** The dead primary. */
  primary: string;
  nodes: readonly EmergencyNode[];
  gtid: GtidOps;
}

export type Choice =
  | { ok: true; candidate: string; ranking: Ranking; errant: ReplicaErrant[]; warnings: string[] }
  | { ok: false; refusal: string; ranking: Ranking; errant: ReplicaErrant[]; warnings: string[] };

export function chooseCandidate({ cluster, primary, nodes, gtid }: ChooseInput): Choice {
  const ranking = rankCandidates({
    cluster,
    primary,
    nodes: [...nodes],
    gtid,
    positionOf: (n) => (n.gtidExecuted === undefined ? undefined : eventualPosition(gtid, n)),
  });
  const replicas = nodes.filter((n) => n.name !== primary);
  const errant = errantAcrossReplicas({
    flavor: cluster.flavor,
    replicas,
    deadPrimary: deadPrimaryIdentity(cluster.flavor, replicas),
  });
  if (!ranking.best)
    return {
      ok: false,
      refusal: `no replica of ${primary} may be promoted: ${ranking.candidates
        .map((c) => `${c.name}: ${c.reasons.join(', ')}`)
        .join(
          '; ',
        )}${ranking.candidates.length ? '' : 'the cluster has no other host'}; fix the promotion rules or the replicas, or recover by hand`,
      ranking,
      errant,
      warnings: [],
    };
  const decision = errantDecision({
    policy: cluster.policy.errantGtids,
    candidate: ranking.best,
    reports: errant,
  });
  return decision.ok
    ? { ok: true, candidate: ranking.best, ranking, errant, warnings: decision.warnings }
    : { ok: false, refusal: decision.refusal, ranking, errant, warnings: decision.warnings };
}
