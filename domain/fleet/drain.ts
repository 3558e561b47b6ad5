// Draining a machine (a hypervisor going down for maintenance): every primary that runs on it
// moves, by a planned successover, to a healthy replica on another machine. Pure, over the
// inventory (where hosts run: `machine`, else their address) and live facts (who is primary, which
// replicas are healthy), so the plan is recorded and replays the same.
//
// Machines compare without regard to case (host names and addresses are case-insensitive).
import { machineOf, type Cluster, type Inventory } from '../inventory';

/** One cluster's live facts, from discovery: host names of the inventory. */
export interface DrainFacts {
  cluster: string;
  /** The writable primary; absent when discovery found none (or several). */
  primary?: string;
  /** Replicas fit to take over (replicating, not lagging), best first if the caller ranked them. */
  healthyReplicas: string[];
}

export interface DrainPlan {
  machine: string;
  /** Primary on the machine; candidates: its healthy replicas elsewhere, in the facts' order. */
  move: { cluster: string; from: string; candidates: string[] }[];
  /** Primary on the machine but no healthy replica on another machine, or no primary found. */
  refused: { cluster: string; reason: string }[];
  /** Clusters with only replicas on the machine: nothing moves, those replicas go down with it. */
  replicasOnly: { cluster: string; hosts: string[] }[];
  /** Non-empty: the whole drain is refused (machine unknown to the inventory; no primary on it). */
  problems: string[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const hostsOn = (c: Cluster, machine: string) =>
  c.hosts.filter((h) => same(machineOf(h), machine)).map((h) => h.name);

/** Clusters with any host on that machine, in inventory order. */
export function clustersOnMachine(inv: Inventory, machine: string): string[] {
  return inv.clusters.filter((c) => hostsOn(c, machine).length > 0).map((c) => c.name);
}

/** Every machine the inventory's hosts run on, sorted. */
export function knownMachines(inv: Inventory): string[] {
  const seen = new Map<string, string>();
  for (const c of inv.clusters)
    for (const h of c.hosts) {
      const m = machineOf(h);
      if (!seen.has(m.toLowerCase())) seen.set(m.toLowerCase(), m);
    }
  return [...seen.values()].sort();
}

export function drainPlan(inv: Inventory, machine: string, facts: DrainFacts[]): DrainPlan {
  const plan: DrainPlan = { machine, move: [], refused: [], replicasOnly: [], problems: [] };
  const clusters = inv.clusters.filter((c) => hostsOn(c, machine).length > 0);
  if (clusters.length === 0) {
    const known = knownMachines(inv);
    plan.problems.push(
      `unknown machine "${machine}": no host of the inventory runs on it (a host's machine is its machine: field, else its address); known machines: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ` and ${known.length - 20} more` : ''}`,
    );
    return plan;
  }
  for (const c of clusters) {
    const on = hostsOn(c, machine);
    const f = facts.find((x) => x.cluster === c.name);
    const names = new Set(c.hosts.map((h) => h.name));
    if (f?.primary === undefined || !names.has(f.primary)) {
      plan.refused.push({
        cluster: c.name,
        reason:
          f?.primary === undefined
            ? `no primary found (${on.join(', ')} run${on.length === 1 ? 's' : ''} on ${machine}): check the cluster with successover topology --cluster ${c.name}, then drain again`
            : `the facts name primary ${f.primary}, which cluster ${c.name} does not have in the inventory: discover again`,
      });
      continue;
    }
    const primary = f.primary;
    if (!on.includes(primary)) {
      plan.replicasOnly.push({ cluster: c.name, hosts: on });
      continue;
    }
    const healthy = f.healthyReplicas.filter((r) => r !== primary && names.has(r));
    const candidates = healthy.filter((r) => !on.includes(r));
    if (candidates.length > 0) {
      plan.move.push({ cluster: c.name, from: primary, candidates });
      continue;
    }
    const alsoHere = healthy.filter((r) => on.includes(r));
    plan.refused.push({
      cluster: c.name,
      reason: `primary ${primary} runs on ${machine} and no healthy replica runs on another machine${
        alsoHere.length > 0
          ? ` (${alsoHere.join(', ')} ${alsoHere.length === 1 ? 'is' : 'are'} healthy but on ${machine} too)`
          : ' (no replica is healthy)'
      }: provision a replica on another machine, or fix replication, then drain again`,
    });
  }
  // Every primary is known and none runs there: draining it moves nothing.
  if (plan.replicasOnly.length === clusters.length)
    plan.problems.push(
      `no primary runs on ${machine}: nothing to drain (its hosts are replicas: ${plan.replicasOnly
        .map((r) => r.hosts.map((h) => `${r.cluster}/${h}`).join(', '))
        .join(', ')})`,
    );
  return plan;
}
