// Whether a node may rejoin as a replica of the primary, and whether as the standby of a
// master-master pair. Pure, over discovery's facts, so the run replays deterministically.
import { findPrimary, type Topology } from '../topology';
import type { Cluster } from '../inventory';

export type RejoinDecision =
  { ok: true; primary: string; pair: boolean; pairReason: string } | { ok: false; refusals: string[] };

export function decideRejoin(input: {
  cluster: Cluster;
  topology: Topology;
  host: string;
  /** The operator's word; absent, the pair is read from the host's own configuration. */
  pair?: boolean;
}): RejoinDecision {
  const { cluster, topology, host } = input;
  const names = cluster.hosts.map((h) => h.name);
  if (!names.includes(host))
    return {
      ok: false,
      refusals: [`unknown host "${host}": cluster ${cluster.name} has ${names.join(', ')}`],
    };
  const found = findPrimary(cluster, topology);
  if ('refusal' in found) return { ok: false, refusals: [found.refusal] };
  const { primary } = found;
  if (host === primary)
    return {
      ok: false,
      refusals: [`${host} is the primary: rejoin takes back a fenced node, not the writer`],
    };
  const node = topology.nodes.find((n) => n.name === host)!;
  if (!node.reachable)
    return {
      ok: false,
      refusals: [
        `${host} is unreachable (${node.error ?? 'no answer'}): start its server first, then rejoin it`,
      ],
    };
  const writer = topology.nodes.find((n) => n.name === primary)!;
  if (input.pair === false) return { ok: true, primary, pair: false, pairReason: 'not a pair: --no-pair' };
  if (writer.replication && writer.replication.source !== host)
    return {
      ok: false,
      refusals: [
        `the primary ${primary} replicates from ${writer.replication.source}: it cannot also be ${host}'s pair; stop that replication first`,
      ],
    };
  if (input.pair === true) return { ok: true, primary, pair: true, pairReason: 'a pair: --pair' };
  // After an emergency recovery the survivor forgot its source (it was promoted) while the
  // returning side still names the survivor: the pair's way back, as it was before the failure.
  if (node.replication?.source === primary)
    return {
      ok: true,
      primary,
      pair: true,
      pairReason: `a pair: ${host} still names ${primary} as its source (its way back before the failure)`,
    };
  return {
    ok: true,
    primary,
    pair: false,
    pairReason: `not a pair: ${host} ${node.replication ? `replicates from ${node.replication.source}` : 'replicates from no one'}`,
  };
}
