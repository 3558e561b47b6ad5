// The planned successover's preflight: every reason to refuse, found before anything changes.
// `force` overrides exactly two checks (lag and long transactions); never errant GTIDs,
// broken replication or two writable nodes, whose consequences cannot be undone.
import type { Cluster } from '../inventory';
import type { GtidOps } from '../gtid';
import { isUnprovisioned, notRepointed, UNPROVISIONED } from '../provision/unprovisioned';
import { rankCandidates, type Ranking } from '../ranking';
import { restrictedTarget, restrictRanking, type TargetRestriction } from './restrict';
import {
  autoIncrementWarning,
  findPrimary,
  pairDisagreements,
  replicationHealthy,
  standbyOf,
  type Topology,
} from '../topology';
import { isOlder } from '../version';

/** The fields of a dialect's long-transaction row that preflight reports. */
export interface LongTransaction {
  connectionId: number;
  user: string | null;
  seconds: number;
}

/** `candidates` and `avoidMachine` (drain-host) restrict the target: ./restrict.ts. */
export interface PlannedRequest extends TargetRestriction {
  target?: string;
  force?: boolean;
  maxLagSeconds?: number;
}

export interface PlannedDecision {
  primary: string;
  target: string;
  /** Present when the target was chosen by ranking. */
  ranking?: Ranking;
  warnings: string[];
  /** Checks that failed but that `force` overrode. */
  forced: string[];
  /** A master-master pair: the old primary keeps replicating from the target, and back. */
  pair: boolean;
}

export type Preflight = { ok: true; decision: PlannedDecision } | { ok: false; refusals: string[] };

export function preflightPlanned(input: {
  cluster: Cluster;
  topology: Topology;
  request: PlannedRequest;
  longTransactions: LongTransaction[];
  gtid: GtidOps;
}): Preflight {
  const { cluster, topology, request, longTransactions, gtid } = input;
  const refusals: string[] = [];
  const forced: string[] = [];
  const warnings: string[] = [];
  const overridable = (problem: string) =>
    request.force ? forced.push(problem) : refusals.push(`${problem} (force overrides this check)`);
  const names = cluster.hosts.map((h) => h.name);

  for (const n of topology.nodes)
    if (!n.reachable)
      refusals.push(
        `${n.name} is unreachable (${n.error ?? 'no answer'}): a planned successover needs every node`,
      );

  const found = findPrimary(cluster, topology);
  if ('refusal' in found) return { ok: false, refusals: [...refusals, found.refusal] };
  const primary = found.primary;
  const primaryNode = topology.nodes.find((n) => n.name === primary)!;
  // The inventory is written once; runbooks move the primary. Its `primary` is a hint, not a record.
  if (cluster.primary !== undefined && cluster.primary !== primary)
    warnings.push(`the inventory names ${cluster.primary} as primary; ${primary} is the writable node now`);

  // A pair switches to its standby and nowhere else: a third node would leave both old sides behind.
  const standby = standbyOf(topology, primary);
  if (standby) {
    const standbyNode = topology.nodes.find((n) => n.name === standby)!;
    refusals.push(...pairDisagreements(primaryNode, standbyNode, gtid));
    const shared = autoIncrementWarning(primaryNode, standbyNode);
    if (shared) warnings.push(shared);
    if (request.target !== undefined && request.target !== standby && names.includes(request.target))
      return {
        ok: false,
        refusals: [
          ...refusals,
          `${primary} and ${standby} are a master-master pair: a successover goes to ${standby}, not ${request.target} (break the pair first to promote another node)`,
        ],
      };
  } else if (primaryNode.replication)
    refusals.push(
      `the writer ${primary} replicates from ${primaryNode.replication.source}, which does not replicate from it: outside a master-master pair a writer must not replicate; stop that replication first`,
    );

  let target = request.target ?? standby ?? undefined;
  let ranking: Ranking | undefined;
  if (target === undefined) {
    ranking = restrictRanking(
      cluster,
      rankCandidates({ cluster, primary, nodes: topology.nodes, gtid }),
      request,
    );
    if (!ranking.best)
      return {
        ok: false,
        refusals: [
          ...refusals,
          `no eligible candidate: ${ranking.candidates.map((c) => `${c.name} (${c.reasons.join('; ')})`).join(', ')}`,
        ],
      };
    target = ranking.best;
  } else if (!names.includes(target)) {
    return {
      ok: false,
      refusals: [...refusals, `unknown target "${target}": cluster ${cluster.name} has ${names.join(', ')}`],
    };
  } else if (target === primary) {
    return {
      ok: false,
      refusals: [...refusals, `${target} is already the primary: choose one of the replicas`],
    };
  }

  // A drain's target is never on the machine being drained, nor outside its plan's candidates.
  const restricted = restrictedTarget(cluster, target, request, {
    standbyOf: target === standby ? primary : undefined,
  });
  if (restricted) refusals.push(restricted);

  const targetNode = topology.nodes.find((n) => n.name === target)!;
  const host = cluster.hosts.find((h) => h.name === target)!;
  if (host.promotion === 'must_not') refusals.push(`${target} has promotion rule must_not`);
  if (cluster.policy.deny.includes(target)) refusals.push(`${target} is on the policy deny list`);
  if (targetNode.reachable && isUnprovisioned(targetNode)) {
    refusals.push(`${target} is empty and replicates from no one (${UNPROVISIONED} first)`);
  } else if (targetNode.reachable) {
    // A pair's two directions and its errant transactions were checked above.
    const broken = standby ? undefined : replicationHealthy(targetNode, primary);
    if (broken) refusals.push(`${broken}: fix replication on the target first`);
    const maxLag = request.maxLagSeconds ?? cluster.policy.maxLagSeconds;
    const lag = targetNode.replication?.lagSeconds;
    if (!broken && (lag === null || lag === undefined)) overridable(`${target}'s lag is unknown`);
    else if (!broken && lag !== null && lag !== undefined && lag > maxLag)
      overridable(
        `${target} lags ${lag} s behind ${primary}, more than maxLagSeconds ${maxLag}: wait for it to catch up`,
      );
    const errant = gtid.errant(targetNode.gtidHistory ?? '', primaryNode.gtidHistory ?? '');
    if (errant.errant && !standby)
      refusals.push(
        `${target} has errant transactions (${errant.summary}): promoting it would lose them or replay them twice; remove them first`,
      );
    for (const other of topology.nodes) {
      if (!other.version || !targetNode.version || other.name === target) continue;
      if (isOlder(targetNode.version, other.version))
        refusals.push(
          `${target} runs ${targetNode.version}, older than ${other.name}'s ${other.version}: promoting it would downgrade the primary; upgrade it first`,
        );
    }
  }

  const threshold = cluster.policy.longTransactionSeconds;
  for (const t of longTransactions)
    overridable(
      `a transaction has been open ${t.seconds} s on ${primary} (connection ${t.connectionId}, user ${t.user ?? 'unknown'}), over ${threshold} s: it would be killed and rolled back`,
    );

  for (const n of topology.nodes) {
    if (n.name === primary || n.name === target || !n.reachable) continue;
    if (isUnprovisioned(n)) {
      warnings.push(notRepointed(n.name, target));
      continue;
    }
    const broken = replicationHealthy(n, primary);
    if (broken) warnings.push(`${broken}; it will be repointed to ${target} as it is`);
  }

  if (refusals.length) return { ok: false, refusals };
  return { ok: true, decision: { primary, target, ranking, warnings, forced, pair: standby !== null } };
}
