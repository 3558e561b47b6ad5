// Candidate ranking, shared by the planned successover (when no target is given) and the
// emergency recovery. Order of precedence, as DESIGN.md states it: promotion rule, health,
// most advanced GTID position, lag, then the old primary's data center.
import type { Cluster, PromotionRule } from './inventory';
import { compareGtidScores, GtidParseError, type GtidOps, type GtidScore } from './gtid';
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

/**
 * A host's GTID text that a decision could not read. Domain code stays free of Temporal imports;
 * workflow code turns it into a non-retryable failure (WorkflowError) whose message is this one:
 * the host, which of its positions, the parse error, and the fix.
 */
export class UnreadableGtid extends Error {
  override readonly name = 'UnreadableGtid';

  constructor(
    readonly host: string,
    /** Which position: "GTID position", "received position (relay log)", "binlog state", ... */
    readonly what: string,
    readonly parseError: GtidParseError,
  ) {
    super(
      `${host}'s ${what} cannot be read: ${parseError.message}; check what ${host} reports ` +
        `(SELECT @@gtid_executed on MySQL, @@gtid_current_pos / @@gtid_binlog_state on MariaDB) and fix it, ` +
        `or set promotion: must_not on ${host} and take it out of replication, then start the run again`,
    );
  }
}

/** Runs `read` (which parses a GTID text of `host`); a GtidParseError becomes UnreadableGtid naming it. */
export function readGtidOf<T>(host: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof GtidParseError) throw new UnreadableGtid(host, what, e);
    throw e;
  }
}

/**
 * Runs `read`, which parses the GTID texts of several hosts; a GtidParseError becomes UnreadableGtid
 * naming the host whose text it was (GtidParseError.input is the text as given).
 */
export function readGtidOfAny<T>(
  texts: readonly { host: string; text: string | null | undefined }[],
  what: string,
  read: () => T,
): T {
  try {
    return read();
  } catch (e) {
    const at = e instanceof GtidParseError ? texts.find((t) => t.text === e.input) : undefined;
    if (at && e instanceof GtidParseError) throw new UnreadableGtid(at.host, what, e);
    throw e;
  }
}

interface Keyed {
  name: string;
  tier: number;
  /** How advanced its position is (GtidOps.score), computed once. */
  score: GtidScore;
  lag: number;
  sameDc: boolean;
}

/**
 * The ranking's order: promotion tier, then advancement (GtidOps.score, a linear extension of
 * "contains": a strictly more advanced node never comes after a less advanced one, and diverged
 * positions still compare), then lag, the old primary's data center, the name. A total order over
 * distinct names: antisymmetric and transitive, so the result does not depend on input order.
 */
function compareKeyed(a: Keyed, b: Keyed): number {
  return (
    a.tier - b.tier ||
    compareGtidScores(b.score, a.score) ||
    (a.lag === b.lag ? 0 : a.lag < b.lag ? -1 : 1) ||
    Number(b.sameDc) - Number(a.sameDc) ||
    compareNames(a.name, b.name)
  );
}

// localeCompare first (as the ranking always sorted), then code points, so distinct names never tie.
const compareNames = (a: string, b: string) => a.localeCompare(b) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The comparator rankCandidates sorts the eligible candidates with (negative: `a` ranks first).
 * Reads each node's position once; a position that does not parse throws UnreadableGtid naming it.
 */
export function candidateOrder({
  cluster,
  primary,
  gtid,
  positionOf,
}: Omit<RankInput, 'nodes'>): (a: NodeState, b: NodeState) => number {
  const position = positionOf ?? ((n: NodeState) => n.gtidExecuted);
  const hosts = new Map(cluster.hosts.map((h) => [h.name, h]));
  const primaryDc = hosts.get(primary)?.dataCenter;
  const keys = new Map<NodeState, Keyed>();
  const keyOf = (n: NodeState): Keyed => {
    let k = keys.get(n);
    if (!k) {
      const h = hosts.get(n.name);
      const dc = h?.dataCenter;
      k = {
        name: n.name,
        tier: TIER[h?.promotion ?? 'neutral'],
        score: readGtidOf(n.name, 'GTID position', () => gtid.score(position(n) ?? '')),
        lag: n.replication?.lagSeconds ?? Infinity,
        sameDc: dc !== undefined && dc === primaryDc,
      };
      keys.set(n, k);
    }
    return k;
  };
  return (a, b) => compareKeyed(keyOf(a), keyOf(b));
}

export function rankCandidates({ cluster, primary, nodes, gtid, positionOf }: RankInput): Ranking {
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

  const order = candidateOrder({ cluster, primary, gtid, positionOf });
  const eligible = judged.filter((c) => c.eligible).sort((a, b) => order(a.node, b.node));
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
