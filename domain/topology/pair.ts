// Master-master pairs (seeds 003 and 004): the writer also replicates from its standby, so either
// side can take the writes back with nothing to rebuild. Read-only on the standby is what keeps
// one writer; the replication back is what the user built and expects to find after every run.
import type { GtidOps } from '../gtid';
import { replicationHealthy, type NodeState, type Topology } from './nodeState';

/**
 * The writer's standby when the writer replicates from a node that replicates from it (a pair),
 * else null. Read from the configured sources, not their health: a pair with one direction broken
 * is still a pair, a broken one.
 */
export function standbyOf(topology: Topology, primary: string): string | null {
  const p = topology.nodes.find((n) => n.name === primary);
  const source = p?.replication?.source;
  if (!source || source === primary) return null;
  const standby = topology.nodes.find((n) => n.name === source);
  return standby?.replication?.source === primary ? standby.name : null;
}

/**
 * Why the two sides of a pair disagree, or [] when they agree: a direction broken, or a side
 * holding transactions the other will never receive. The writer's own writes its standby has yet
 * to apply are lag, not disagreement.
 */
export function pairDisagreements(primary: NodeState, standby: NodeState, gtid: GtidOps): string[] {
  const out: string[] = [];
  for (const [from, to] of [
    [primary, standby],
    [standby, primary],
  ] as const) {
    if (!to.reachable) continue;
    const broken = replicationHealthy(to, from.name);
    if (broken) out.push(`master-master pair ${primary.name} <-> ${standby.name}: ${broken}`);
  }
  if (primary.gtidHistory === undefined || standby.gtidHistory === undefined) return out;
  const standbyAhead = gtid.errant(standby.gtidHistory, primary.gtidHistory);
  if (standbyAhead.errant)
    out.push(
      `the standby ${standby.name} holds what the writer ${primary.name} lacks (${standbyAhead.summary}): ` +
        'a write went to the standby; compare both sides and remove or replay it before any runbook',
    );
  const writerAhead = gtid.errant(primary.gtidHistory, standby.gtidHistory, {
    exceptOrigin: { serverId: primary.serverId, serverUuid: primary.serverUuid },
  });
  if (writerAhead.errant)
    out.push(
      `the writer ${primary.name} holds transactions of other origins its standby ${standby.name} lacks (${writerAhead.summary}): ` +
        `${standby.name} never receives them (a replica skips its own server's events); rebuild ${standby.name} or replay them there`,
    );
  return out;
}

/**
 * Both sides write-safe only while one side writes: equal auto_increment settings collide on the
 * first insert made on each side. A warning, never a refusal.
 */
export function autoIncrementWarning(primary: NodeState, standby: NodeState): string | null {
  const a = primary.autoIncrement;
  const b = standby.autoIncrement;
  if (!a || !b || a.offset !== b.offset || a.increment !== b.increment) return null;
  return (
    `${primary.name} and ${standby.name} share auto_increment_increment=${a.increment} and auto_increment_offset=${a.offset}: ` +
    'harmless while one side writes, colliding keys the moment both do; give them different offsets (e.g. increment 2, offsets 1 and 2)'
  );
}
