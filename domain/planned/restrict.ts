// A planned successover whose target is restricted: drain-host moves every primary off one machine,
// so a target on that machine would move the primary nowhere, and a target outside the drain plan's
// candidates was not judged healthy when the plan was made. The restriction is re-checked here, in
// the child's own preflight against its own inventory and discovery: the plan may be minutes old.
import { machineOf, type Cluster } from '../inventory';
import type { Ranking } from '../ranking';

export interface TargetRestriction {
  /** Only these hosts may become the primary (drain-host: its plan's candidates). */
  candidates?: string[];
  /** No host on this machine may become the primary (inventory `machine`, else its address). */
  avoidMachine?: string;
}

/** Why `host` may not become the primary under `r` (a phrase, as ranking reasons are), or undefined. */
export function restrictionReason(cluster: Cluster, host: string, r: TargetRestriction): string | undefined {
  const h = cluster.hosts.find((x) => x.name === host);
  // Machines compare as drain-host compares them: without regard to case.
  if (r.avoidMachine !== undefined && h && machineOf(h).toLowerCase() === r.avoidMachine.toLowerCase())
    return `on machine ${r.avoidMachine}, which this run moves the primary off`;
  if (r.candidates !== undefined && !r.candidates.includes(host))
    return `not among the candidates (${r.candidates.join(', ') || 'none'})`;
  return undefined;
}

/** The refusal for an explicit target (or a pair's standby) the restriction excludes, or undefined. */
export function restrictedTarget(
  cluster: Cluster,
  target: string,
  r: TargetRestriction,
  { standbyOf }: { standbyOf?: string } = {},
): string | undefined {
  const why = restrictionReason(cluster, target, r);
  if (!why) return undefined;
  return standbyOf
    ? `${target}, the master-master standby of ${standbyOf} and the only target a pair switches to, is ${why}: break the pair, or move it by hand`
    : `the target ${target} is ${why}: choose another target`;
}

/**
 * The ranking with every restricted host made ineligible (its reason added) and the best
 * eligible one that remains. The order among the others is the ranking's own.
 */
export function restrictRanking(cluster: Cluster, ranking: Ranking, r: TargetRestriction): Ranking {
  if (r.candidates === undefined && r.avoidMachine === undefined) return ranking;
  const judged = ranking.candidates.map((c) => {
    const why = c.eligible ? restrictionReason(cluster, c.name, r) : undefined;
    // The placement ("#1: rule ...") no longer holds once a better one is excluded.
    return why ? { ...c, eligible: false, reasons: [why] } : c;
  });
  const eligible = judged.filter((c) => c.eligible);
  const excluded = judged.filter((c) => !c.eligible);
  return { candidates: [...eligible, ...excluded], best: eligible[0]?.name };
}
