// The first steps of a fleet and a drain, on the worker, whose inventory is authoritative: which
// clusters a selector names (so the list is recorded in the run's history), and for a drain the
// live facts of every cluster on the machine and the plan made from them.
import { Context } from '@temporalio/activity';
import { drainPlan, clustersOnMachine, type DrainFacts, type DrainPlan } from '../domain/fleet/drain';
import { drainFactsOf } from '../domain/fleet/drainFacts';
import { fillTemplate } from '../domain/fleet/input';
import { selectClusters, validateClusterList } from '../domain/fleet/select';
import type { Inventory } from '../domain/inventory';
import type { NodeState } from '../domain/topology';

export interface ResolveFleetInput {
  /** Cluster names and labels (domain/fleet/select.ts). */
  selector?: string;
  /** Or the clusters by name. */
  clusters?: string[];
  /** An upgrade fleet's green host template: every cluster must have that host. */
  greenHost?: string;
}

/** The clusters, in order; problems (non-empty) refuse the fleet before any child starts. */
export interface ResolvedFleet {
  clusters: string[];
  problems: string[];
}

export interface DrainFactsInput {
  machine: string;
  /** Clusters discovered at once. */
  concurrency: number;
}

export interface GatheredDrainFacts {
  /** The clusters with a host on the machine (inventory), in inventory order. */
  clusters: string[];
  facts: DrainFacts[];
  /** Clusters whose discovery failed outright, with why (their facts name no primary). */
  unreadable: { cluster: string; error: string }[];
}

export interface FleetShared {
  /** The live topology of a cluster, as every runbook's discovery reads it. */
  discover(cluster: string): Promise<NodeState[]>;
}

export function createFleetActivities(deps: { readonly inventory: Inventory }, shared: FleetShared) {
  return {
    async resolveFleet(input: ResolveFleetInput): Promise<ResolvedFleet> {
      const inv = deps.inventory;
      let clusters: string[];
      if (input.selector !== undefined) {
        const selected = selectClusters(inv, input.selector);
        if (!selected.ok) return { clusters: [], problems: selected.problems };
        clusters = selected.clusters;
      } else clusters = input.clusters ?? [];
      if (clusters.length === 0) return { clusters, problems: ['no cluster selected: name at least one'] };
      const problems = validateClusterList(clusters, inv);
      if (input.greenHost !== undefined)
        for (const name of clusters) {
          const spec = inv.clusters.find((c) => c.name === name);
          const green = fillTemplate(input.greenHost, name);
          if (spec && !spec.hosts.some((h) => h.name === green))
            problems.push(
              `cluster ${name} has no host ${green} (green host ${input.greenHost}): add it to the inventory or leave the cluster out`,
            );
        }
      return { clusters, problems };
    },

    /** Live discovery of every cluster with a host on the machine, `concurrency` at a time. */
    async drainFacts({ machine, concurrency }: DrainFactsInput): Promise<GatheredDrainFacts> {
      const inv = deps.inventory;
      const clusters = clustersOnMachine(inv, machine);
      const facts: DrainFacts[] = [];
      const unreadable: GatheredDrainFacts['unreadable'] = [];
      const ctx = Context.current();
      await forEachBounded(clusters, Math.max(1, concurrency), async (name) => {
        const spec = inv.clusters.find((c) => c.name === name)!;
        try {
          facts.push(drainFactsOf(spec, await shared.discover(name)));
        } catch (e) {
          unreadable.push({ cluster: name, error: e instanceof Error ? e.message : String(e) });
          facts.push({ cluster: name, healthyReplicas: [] });
        }
        ctx.heartbeat({ discovered: facts.length, of: clusters.length });
      });
      // In inventory order, whichever discovery ended first: the history reads the same every time.
      const order = new Map(clusters.map((c, i) => [c, i]));
      facts.sort((a, b) => order.get(a.cluster)! - order.get(b.cluster)!);
      return { clusters, facts, unreadable };
    },

    /** drainPlan over the worker's inventory and the facts the first step recorded. */
    async planDrain({ machine, facts }: { machine: string; facts: DrainFacts[] }): Promise<DrainPlan> {
      return drainPlan(deps.inventory, machine, facts);
    },
  };
}

async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
