// Candidate ranking, shared by the planned successover (when no target is given) and the
// emergency recovery. Order of precedence, as DESIGN.md states it: promotion rule, health,
// most advanced GTID position, lag, then the old primary's data center.
import type { Cluster, PromotionRule } from './inventory';
import type { GtidOps } from './gtid';
import { isUnprovisioned, UNPROVISIONED } from './provision/unprovisioned';
import type { NodeState } from './topology';

export interface RankedCandidate {
  name: string;
  eligible: boolean;
  rule: PromotionRule;
  lagSeconds: number | null;
  dataCenter?: string;
  /** Why it is excluded, or what placed it where it is. */
  reasons: string[];
}

export interface Ranking {
  /** Eligible candidates first, best first; then the excluded ones. */
  candidates: RankedCandidate[];
  best?: string;
}

const TIER: Record<PromotionRule, number> = { must: 0, prefer: 1, neutral: 2, prefer_not: 3, must_not: 4 };

export interface RankInput {
  cluster: Cluster;
  /** The (old) primary: never a candidate; its data center is preferred. */
  primary: string;
  nodes: NodeState[];
  gtid: GtidOps;
  /**
   * The position advancement is judged on; gtidExecuted by default. Emergency recovery adds what
   * each replica received: it applies that before it is promoted.
   */
  positionOf?: (n: NodeState) => string | undefined;
}

const ORDER = { ahead: -1, behind: 1, equal: 0, diverged: 0 } as const;

export function rankCandidates({ cluster, primary, nodes, gtid, positionOf }: RankInput): Ranking {
  const position = positionOf ?? ((n: NodeState) => n.gtidExecuted);
  const hosts = new Map(cluster.hosts.map((h) => [h.name, h]));
  const primaryDc = hosts.get(primary)?.dataCenter;
  const { allow, deny } = cluster.policy;

  const judged = nodes
    .filter((n) => n.name !== primary && hosts.has(n.name))
    .map((n): RankedCandidate & { node: NodeState } => {
      const h = hosts.get(n.name)!;
      const reasons: string[] = [];
      if (h.promotion === 'must_not') reasons.push('promotion rule must_not');
      if (deny.includes(n.name)) reasons.push('on the policy deny list');
      if (allow.length > 0 && !allow.includes(n.name)) reasons.push('not on the policy allow list');
      if (!n.reachable) reasons.push(`unreachable: ${n.error ?? 'no answer'}`);
      else if (isUnprovisioned(n)) reasons.push(UNPROVISIONED);
      else if (!n.replication) reasons.push('not a replica');
      else if (n.replication.sqlError) reasons.push(`SQL thread failed: ${n.replication.sqlError}`);
      else if (n.gtidExecuted === undefined) reasons.push('GTID position unknown');
      return {
        node: n,
        name: n.name,
        eligible: reasons.length === 0,
        rule: h.promotion,
        lagSeconds: n.replication?.lagSeconds ?? null,
        dataCenter: h.dataCenter,
        reasons,
      };
    });

  const byAdvancement = (a: NodeState, b: NodeState): number =>
    ORDER[gtid.compare(position(a) ?? '', position(b) ?? '')];
  const eligible = judged
    .filter((c) => c.eligible)
    .sort(
      (a, b) =>
        TIER[a.rule] - TIER[b.rule] ||
        byAdvancement(a.node, b.node) ||
        (a.lagSeconds ?? Infinity) - (b.lagSeconds ?? Infinity) ||
        Number(b.dataCenter !== undefined && b.dataCenter === primaryDc) -
          Number(a.dataCenter !== undefined && a.dataCenter === primaryDc) ||
        a.name.localeCompare(b.name),
    );
  eligible.forEach((c, i) => {
    c.reasons.push(
      `#${i + 1}: rule ${c.rule}, lag ${c.lagSeconds ?? 'unknown'} s${
        primaryDc && c.dataCenter === primaryDc ? `, same data center as ${primary}` : ''
      }`,
    );
  });
  // Several `must` hosts is a configuration smell worth surfacing, not a reason to refuse.
  const musts = eligible.filter((c) => c.rule === 'must');
  if (musts.length > 1) musts.forEach((c) => c.reasons.push('several hosts have promotion rule must'));

  const candidates = [...eligible, ...judged.filter((c) => !c.eligible)].map(({ node: _n, ...c }) => c);
  return { candidates, best: eligible[0]?.name };
}

/** Candidates that hold transactions the chosen one lacks (emergency catch-up sources). */
export function moreAdvancedThan(
  chosen: NodeState,
  nodes: NodeState[],
  gtid: GtidOps,
): { name: string; relation: 'ahead' | 'diverged' }[] {
  const out: { name: string; relation: 'ahead' | 'diverged' }[] = [];
  for (const n of nodes) {
    if (n.name === chosen.name || !n.reachable || n.gtidExecuted === undefined) continue;
    const relation = gtid.compare(n.gtidExecuted, chosen.gtidExecuted ?? '');
    if (relation === 'ahead' || relation === 'diverged') out.push({ name: n.name, relation });
  }
  return out;
}
