// Is the primary really dead? The worker failing to reach it proves little (a partition between
// the worker and the primary looks the same), so the verdict also asks the replicas: only when
// every probe failed AND every reachable replica's IO thread cannot reach the primary either is
// the failure confirmed (Orchestrator's DeadMaster, seed 001). Anything else changes nothing.
import type { Cluster } from '../inventory';
import type { NodeState } from '../topology';

/** One attempt of the worker to reach the primary. */
export interface PrimaryProbe {
  ok: boolean;
  /** Why it failed (classified message), when it failed. */
  error?: string;
  /** When it was made: ISO text or epoch ms. */
  at: string | number;
}

/** One line of the evidence the UI shows: who was asked and what they said. */
export interface Evidence {
  /** 'worker' for the worker's own probes, else the replica's name. */
  from: string;
  says: 'down' | 'up' | 'unknown';
  detail: string;
}

export type FailureVerdict =
  | { verdict: 'confirmed'; primary: string; evidence: Evidence[] }
  | { verdict: 'false-alarm'; primary: string; reason: string; evidence: Evidence[] }
  | { verdict: 'undecidable'; primary: string; reason: string; evidence: Evidence[] };

export type InferredPrimary =
  | {
      found: true;
      primary: string;
      /** Replicas whose replication chain ends at it (directly or through an intermediate). */
      followers: string[];
    }
  | { found: false; reason: string; roots: { source: string; followers: string[] }[] };

/**
 * The node the replicas replicate from, found by following each reachable replica's source up
 * to the top of its chain (an intermediate replica that is itself reachable and replicating is
 * not the top). One top: that is the primary. Several: ambiguous, the caller must name it.
 * A source outside the cluster shows as "address:port".
 */
export function inferDeadPrimary(nodes: readonly NodeState[]): InferredPrimary {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const roots = new Map<string, string[]>();
  for (const n of nodes) {
    if (!n.reachable || !n.replication) continue;
    let source = n.replication.source;
    const seen = new Set([n.name]);
    for (;;) {
      const up = byName.get(source);
      if (!up || !up.reachable || !up.replication || seen.has(source)) break;
      seen.add(source);
      source = up.replication.source;
    }
    roots.set(source, [...(roots.get(source) ?? []), n.name]);
  }
  const list = [...roots.entries()]
    .map(([source, followers]) => ({ source, followers }))
    .sort((a, b) => a.source.localeCompare(b.source));
  if (list.length === 1) return { found: true, primary: list[0].source, followers: list[0].followers };
  if (list.length === 0)
    return {
      found: false,
      reason: 'no reachable replica: nothing tells which node was the primary',
      roots: [],
    };
  return {
    found: false,
    reason: `the replicas do not agree on the primary: ${list
      .map(
        (r) =>
          `${r.followers.join(', ')} ${r.followers.length === 1 ? 'replicates' : 'replicate'} from ${r.source}`,
      )
      .join('; ')}: name the primary explicitly`,
    roots: list,
  };
}

// The source answered the IO thread (the primary is alive, replication is what is broken).
const ANSWERED = /access denied|got fatal error|authentication|unknown (system )?variable|1045|1236/i;
// Messages of a source that could not be reached at all.
const UNREACHABLE =
  /can't connect|cannot connect|lost connection|connection refused|timed? ?out|no route to host|network is unreachable|unknown (mysql|mariadb) server host|host is down|reconnecting|error connecting|\b(2002|2003|2005|2013)\b/i;

type ReplicaSays = { says: Evidence['says']; detail: string; streaming?: boolean; answered?: boolean };

function askReplica(n: NodeState, primary: string): ReplicaSays {
  const r = n.replication!;
  if (r.ioRunning === 'yes')
    return {
      says: 'up',
      streaming: true,
      detail: `${n.name} still streams from ${primary} (IO thread running)`,
    };
  if (!r.ioError)
    return {
      says: 'unknown',
      detail:
        r.ioRunning === 'no'
          ? `${n.name}'s IO thread is stopped without an error: it was stopped, it says nothing about ${primary}`
          : `${n.name}'s IO thread is connecting without an error yet: ask again`,
    };
  if (ANSWERED.test(r.ioError))
    return {
      says: 'up',
      answered: true,
      detail: `${n.name}'s IO thread got an answer from ${primary}: ${r.ioError}`,
    };
  const state = r.ioRunning === 'no' ? 'stopped' : 'reconnecting';
  return UNREACHABLE.test(r.ioError)
    ? { says: 'down', detail: `${n.name} cannot reach ${primary} either (IO thread ${state}: ${r.ioError})` }
    : {
        says: 'down',
        detail: `${n.name} cannot replicate from ${primary} (IO thread ${state}: ${r.ioError})`,
      };
}

const atText = (at: string | number) => (typeof at === 'number' ? new Date(at).toISOString() : at);
const atMs = (at: string | number) => (typeof at === 'number' ? at : Date.parse(at));

export interface ConfirmInput {
  cluster: Cluster;
  /** The topology discovered from the worker (the primary's own entry, when present, too). */
  nodes: readonly NodeState[];
  /** The primary that is suspected dead (inferDeadPrimary, or given). */
  primary: string;
  /** The worker's probes of the primary, in the order they were made. */
  probes: readonly PrimaryProbe[];
  /** At least this many probes must have failed; default: the policy detector's `probes`. */
  minProbes?: number;
  /** The failed probes must span at least this long (first to last); default 0. */
  minSpanSeconds?: number;
}

export function confirmFailure(input: ConfirmInput): FailureVerdict {
  const { nodes, primary, probes } = input;
  const minProbes = input.minProbes ?? input.cluster.policy.detector.probes;
  const minSpan = input.minSpanSeconds ?? 0;
  const evidence: Evidence[] = probes.map((p, i) => ({
    from: 'worker',
    says: p.ok ? 'up' : 'down',
    detail: `probe ${i + 1} of ${probes.length} at ${atText(p.at)}: ${p.ok ? `${primary} answered` : (p.error ?? 'no answer')}`,
  }));
  const falseAlarm = (reason: string): FailureVerdict => ({
    verdict: 'false-alarm',
    primary,
    reason,
    evidence,
  });
  const undecidable = (reason: string): FailureVerdict => ({
    verdict: 'undecidable',
    primary,
    reason,
    evidence,
  });

  const answered = probes.findIndex((p) => p.ok);
  if (answered >= 0)
    return falseAlarm(`${primary} answered probe ${answered + 1} (at ${atText(probes[answered].at)})`);
  const self = nodes.find((n) => n.name === primary);
  if (self?.reachable) {
    evidence.push({ from: 'worker', says: 'up', detail: `${primary} answered discovery` });
    return falseAlarm(`${primary} answered discovery: it is reachable`);
  }
  if (probes.length === 0) return undecidable(`${primary} was not probed`);
  if (probes.length < minProbes)
    return undecidable(`only ${probes.length} probe(s) of ${primary} failed; ${minProbes} are required`);
  const span = (atMs(probes[probes.length - 1].at) - atMs(probes[0].at)) / 1000;
  if (Number.isNaN(span)) return undecidable('a probe time is unreadable');
  if (span < minSpan)
    return undecidable(`the failed probes span ${span} s, less than the required ${minSpan} s: probe longer`);

  const replicas = nodes.filter((n) => n.name !== primary && n.replication?.source === primary);
  for (const n of nodes)
    if (n.name !== primary && !n.reachable)
      evidence.push({
        from: n.name,
        says: 'unknown',
        detail: `${n.name} is unreachable too: ${n.error ?? 'no answer'}`,
      });
  const witnesses = replicas.filter((n) => n.reachable);
  if (witnesses.length === 0)
    return undecidable(
      `no reachable replica of ${primary} to ask: the worker alone cannot tell a dead primary from a partition`,
    );
  const said = witnesses.map((n) => ({ name: n.name, ...askReplica(n, primary) }));
  for (const s of said) evidence.push({ from: s.name, says: s.says, detail: s.detail });

  const streaming = said.filter((s) => s.streaming).map((s) => s.name);
  if (streaming.length)
    return falseAlarm(
      `${list(streaming)} still ${streaming.length === 1 ? 'streams' : 'stream'} from ${primary} (IO thread running, no IO error)`,
    );
  const reached = said.find((s) => s.answered);
  if (reached) return falseAlarm(reached.detail);
  const unsure = said.filter((s) => s.says === 'unknown');
  if (unsure.length) return undecidable(unsure.map((s) => s.detail).join('; '));
  return { verdict: 'confirmed', primary, evidence };
}

const list = (names: readonly string[]) =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
