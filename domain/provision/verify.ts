// After the copy: when the new replica counts as caught up, and which replica its data is
// compared with.
import type { Cluster } from '../inventory';
import { replicationHealthy, type Topology } from '../topology';
import { donorProblem } from './donor';
import { isUnprovisioned } from './unprovisioned';
import { formatCatchUp, type CatchUpProgress } from './progress';

export type CatchUpState =
  | { state: 'caught-up'; detail: string }
  | { state: 'waiting'; detail: string }
  | { state: 'failed'; reason: string };

/**
 * Caught up: both threads running and the lag at most `maxLagSeconds` (or nothing left to apply).
 * A SQL error, a stopped SQL thread or a stopped IO thread fails at once: waiting cannot fix them.
 * An IO thread still connecting is waited for (it retries by itself); its error is shown.
 */
export function catchUpState(
  p: CatchUpProgress,
  o: { host: string; primary: string; maxLagSeconds: number },
): CatchUpState {
  const detail = formatCatchUp(p, o.primary);
  if (p.sqlRunning === null && p.ioRunning === null)
    return {
      state: 'failed',
      reason: `${o.host} has no replication configured any more (someone reset it?): run provision-replica again with wipe: true`,
    };
  if (p.sqlRunning === false)
    return {
      state: 'failed',
      reason: `${o.host}'s SQL thread ${p.lastError ? `failed: ${p.lastError}` : 'is stopped'} (${detail}): the copy does not match the primary's history; run provision-replica again with wipe: true`,
    };
  if (p.ioRunning === 'no')
    return {
      state: 'failed',
      reason: `${o.host}'s IO thread is stopped${p.lastError ? `: ${p.lastError}` : ''} (${detail}): check that ${o.primary} still has the binary logs from the copy's position and that the replication account works`,
    };
  if (p.ioRunning !== 'yes') return { state: 'waiting', detail };
  if (p.gtidDistance === 0 || (p.lagSeconds !== null && p.lagSeconds <= o.maxLagSeconds))
    return { state: 'caught-up', detail };
  return { state: 'waiting', detail };
}

/**
 * The replica the new one is compared with: the donor when it is a healthy replica (it shares the
 * copy's history exactly), else the healthy replica lagging least. Null when there is none (a
 * primary and the new replica only): the comparison is then skipped, with a warning.
 */
export function chooseChecksumReference(input: {
  cluster: Cluster;
  topology: Topology;
  primary: string;
  target: string;
  donor: string;
}): string | null {
  const { cluster, topology, primary, target, donor } = input;
  const healthy = topology.nodes.filter(
    (n) => n.name !== primary && n.name !== target && donorProblem(n, cluster, primary) === undefined,
  );
  if (healthy.some((n) => n.name === donor)) return donor;
  const best = healthy.sort(
    (a, b) =>
      (a.replication?.lagSeconds ?? Infinity) - (b.replication?.lagSeconds ?? Infinity) ||
      a.name.localeCompare(b.name),
  )[0];
  return best?.name ?? null;
}

export interface TableComparisonView {
  name: string;
  reference: string | null;
  host: string | null;
  equal: boolean;
  rows: number;
}

/** "app.t1 (checksum 123 on db2, 456 on db4, 10 rows); app.t2 (missing or unreadable on db4)". */
export function describeMismatches(tables: TableComparisonView[], reference: string, host: string): string {
  return tables
    .filter((t) => !t.equal)
    .map((t) =>
      t.host === null
        ? `${t.name} (missing or unreadable on ${host})`
        : t.reference === null
          ? `${t.name} (missing or unreadable on ${reference})`
          : `${t.name} (checksum ${t.reference} on ${reference}, ${t.host} on ${host}, ${t.rows} rows on ${host})`,
    )
    .join('; ');
}

/**
 * Nodes other than the primary and the target that already break the invariants before the run
 * (unreachable, replication broken). They are not this run's doing: the run names them and leaves
 * them out of its final check instead of failing a provisioning that worked.
 */
export function preexistingProblems(
  topology: Topology,
  primary: string,
  target: string,
): { name: string; problem: string }[] {
  const out: { name: string; problem: string }[] = [];
  for (const n of topology.nodes) {
    if (n.name === primary || n.name === target) continue;
    if (!n.reachable) out.push({ name: n.name, problem: `unreachable (${n.error ?? 'no answer'})` });
    else if (!isUnprovisioned(n)) {
      const broken = replicationHealthy(n, primary);
      if (broken) out.push({ name: n.name, problem: broken });
    }
  }
  return out;
}
