// Which server the new replica is copied from. A replica, so the backup's reads do not compete
// with the primary's writes: healthy (both threads running, no error; a broken replica may hold
// data that differs), replicating from a host of the cluster, and the least lagging (the copy
// starts closest to now, so the catch-up is shortest). The primary only when asked explicitly.
import type { Cluster } from '../inventory';
import type { NodeState, Topology } from '../topology';
import { isUnprovisioned } from './unprovisioned';

export interface DonorRequest {
  /** The donor the run's input names; chosen here when absent. */
  requested?: string;
  /** The primary may be the donor: when named, or when no replica is healthy. */
  allowPrimary: boolean;
}

export interface DonorInput {
  cluster: Cluster;
  topology: Topology;
  /** The writable node, when there is one. */
  primary: string | undefined;
  /** The host being provisioned: never its own donor. */
  target: string;
}

export interface DonorCandidate {
  name: string;
  eligible: boolean;
  lagSeconds: number | null;
  /** Why it is excluded, or where it ranks. */
  reasons: string[];
}

export type DonorChoice =
  | { ok: true; donor: string; isPrimary: boolean; candidates: DonorCandidate[]; warnings: string[] }
  | { ok: false; refusal: string; candidates: DonorCandidate[] };

/** Why a node cannot be copied from, or undefined when it can. */
export function donorProblem(
  n: NodeState | undefined,
  cluster: Cluster,
  primary: string | undefined,
): string | undefined {
  if (!n) return 'not seen by discovery';
  if (!n.reachable) return `unreachable: ${n.error ?? 'no answer'}`;
  if (n.name === primary) return undefined;
  if (isUnprovisioned(n)) return 'unprovisioned: it holds nothing to copy';
  const r = n.replication;
  if (!r) return 'not a replica (replicates from no one)';
  if (!cluster.hosts.some((h) => h.name === r.source))
    return `replicates from ${r.source}, which is not a host of ${cluster.name}`;
  if (r.sqlError) return `SQL thread failed: ${r.sqlError}`;
  if (r.ioRunning !== 'yes')
    return `IO thread ${r.ioRunning === 'no' ? 'stopped' : 'connecting'}${r.ioError ? `: ${r.ioError}` : ''}`;
  if (!r.sqlRunning) return 'SQL thread stopped';
  return undefined;
}

export function chooseDonor(input: DonorInput, request: DonorRequest): DonorChoice {
  const { cluster, topology, primary, target } = input;
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const targetDc = cluster.hosts.find((h) => h.name === target)?.dataCenter;

  const judged: DonorCandidate[] = cluster.hosts
    .filter((h) => h.name !== target && h.name !== primary)
    .map((h) => {
      const n = byName.get(h.name);
      const problem = donorProblem(n, cluster, primary);
      return {
        name: h.name,
        eligible: problem === undefined,
        lagSeconds: n?.replication?.lagSeconds ?? null,
        reasons: problem ? [problem] : [],
      };
    });
  const sameDc = (name: string) =>
    Number(targetDc !== undefined && cluster.hosts.find((h) => h.name === name)?.dataCenter === targetDc);
  const eligible = judged
    .filter((c) => c.eligible)
    .sort(
      (a, b) =>
        (a.lagSeconds ?? Infinity) - (b.lagSeconds ?? Infinity) ||
        sameDc(b.name) - sameDc(a.name) ||
        a.name.localeCompare(b.name),
    );
  eligible.forEach((c, i) =>
    c.reasons.push(
      `#${i + 1}: lag ${c.lagSeconds ?? 'unknown'} s${sameDc(c.name) ? `, same data center as ${target}` : ''}`,
    ),
  );
  const candidates = [...eligible, ...judged.filter((c) => !c.eligible)];
  const healthy = eligible.map((c) => c.name);
  const others = (except: string) => healthy.filter((n) => n !== except);
  const pickAnother = (except: string) => {
    const rest = others(except);
    if (rest.length) return `pick another with donor: ${rest.join(' or ')}`;
    return primary
      ? `no other replica is healthy: fix one, or copy from the primary ${primary} with allowPrimaryDonor: true`
      : 'no other replica is healthy: fix one';
  };
  const refuse = (refusal: string): DonorChoice => ({ ok: false, refusal, candidates });
  const names = cluster.hosts.map((h) => h.name);

  const asked = request.requested;
  if (asked !== undefined) {
    if (!names.includes(asked))
      return refuse(
        `unknown donor "${asked}": cluster ${cluster.name} has ${names.join(', ')}; ${pickAnother(asked)}`,
      );
    if (asked === target) return refuse(`donor ${asked} is the target itself; ${pickAnother(asked)}`);
    if (asked === primary) {
      if (!request.allowPrimary)
        return refuse(
          `donor ${asked} is the primary: a backup of it competes with the application's writes; ${
            healthy.length
              ? `pick a replica with donor: ${healthy.join(' or ')}, or`
              : 'to copy from it anyway,'
          } set allowPrimaryDonor: true`,
        );
      const problem = donorProblem(byName.get(asked), cluster, primary);
      if (problem) return refuse(`donor ${asked} (the primary) unhealthy: ${problem}`);
      return {
        ok: true,
        donor: asked,
        isPrimary: true,
        candidates,
        warnings: [
          `copying from the primary ${asked} (allowPrimaryDonor): the backup's reads compete with its writes`,
        ],
      };
    }
    const c = candidates.find((x) => x.name === asked)!;
    if (!c.eligible)
      return refuse(`donor ${asked} unhealthy: ${c.reasons.join('; ')}; ${pickAnother(asked)}`);
    return { ok: true, donor: asked, isPrimary: false, candidates, warnings: [] };
  }

  if (eligible.length)
    return { ok: true, donor: eligible[0].name, isPrimary: false, candidates, warnings: [] };
  const why = judged.map((c) => `${c.name}: ${c.reasons.join('; ')}`).join('; ');
  if (request.allowPrimary && primary && !donorProblem(byName.get(primary), cluster, primary))
    return {
      ok: true,
      donor: primary,
      isPrimary: true,
      candidates,
      warnings: [
        `no healthy replica to copy from (${why || 'the cluster has none'}): copying from the primary ${primary} (allowPrimaryDonor)`,
      ],
    };
  return refuse(
    `no healthy replica to copy from (${why || `${cluster.name} has no replica`}): fix one, name one with donor: NAME${
      primary ? `, or copy from the primary ${primary} with allowPrimaryDonor: true` : ''
    }`,
  );
}
