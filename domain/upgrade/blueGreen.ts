// Decisions of the blue/green upgrade (workflows/blueGreenUpgrade.ts), pure so they replay and
// are unit-tested: where green stands before the run, whether the soak is healthy, whether green
// runs the version asked for, and which compatibility findings stop the run.
import type { Cluster } from '../inventory';
import { isUnprovisioned } from '../provision/unprovisioned';
import { findPrimary, node, replicationHealthy, type Topology } from '../topology';
import type { CompatFinding } from './facts';

/** Green before the run: to provision, already a healthy replica of blue, or a refusal. */
export type GreenStart =
  { ok: true; blue: string; green: 'provision' | 'replicating' } | { ok: false; refusals: string[] };

export function preflightBlueGreen(input: {
  cluster: Cluster;
  topology: Topology;
  green: string;
}): GreenStart {
  const { cluster, topology, green } = input;
  if (!cluster.hosts.some((h) => h.name === green))
    return {
      ok: false,
      refusals: [
        `green host "${green}" is not a host of ${cluster.name}: add it to the inventory (expected one of ${cluster.hosts.map((h) => h.name).join(', ')})`,
      ],
    };
  const found = findPrimary(cluster, topology);
  if ('refusal' in found) return { ok: false, refusals: [found.refusal] };
  const blue = found.primary;
  if (blue === green)
    return {
      ok: false,
      refusals: [`green host ${green} is the primary (blue): pick a replica or a new host as green`],
    };
  const n = node(topology, green);
  if (!n?.reachable)
    return {
      ok: false,
      refusals: [
        `green host ${green} does not answer${n?.error ? ` (${n.error})` : ''}: start its server first`,
      ],
    };
  if (isUnprovisioned(n)) return { ok: true, blue, green: 'provision' };
  const unhealthy = replicationHealthy(n, blue);
  if (unhealthy && n.replication)
    return {
      ok: false,
      refusals: [
        `green host ${green} holds a broken or foreign replica (${unhealthy}): repair it, or wipe it and let the upgrade provision it`,
      ],
    };
  // Replicating from blue and healthy: provisioned by an earlier run or by hand; keep it.
  if (!unhealthy) return { ok: true, blue, green: 'replicating' };
  return { ok: true, blue, green: 'provision' };
}

/** Problems that end the soak: green must keep replicating from blue, caught up. */
export function soakProblems(
  topology: Topology,
  blue: string,
  green: string,
  maxLagSeconds: number,
): string[] {
  const n = node(topology, green);
  if (!n?.reachable) return [`${green} does not answer${n?.error ? `: ${n.error}` : ''}`];
  const unhealthy = replicationHealthy(n, blue);
  if (unhealthy) return [unhealthy];
  const lag = n.replication?.lagSeconds;
  if (lag === null || lag === undefined) return [`${green}'s lag is unknown`];
  if (lag > maxLagSeconds) return [`${green} lags ${lag} s behind ${blue} (more than ${maxLagSeconds} s)`];
  return [];
}

/** Green must run the asked version: "11.4" matches 11.4.x, "10.11.19" only itself. */
export function targetVersionProblem(
  greenVersion: string | undefined,
  target: string | undefined,
): string | undefined {
  if (!target) return undefined;
  if (!greenVersion) return `green's version is unknown, expected ${target}`;
  // Compare only as many components as the target gives.
  const want = target.split('.');
  const have = (/^\d+(?:\.\d+)*/.exec(greenVersion)?.[0] ?? '').split('.').slice(0, want.length);
  if (have.length === want.length && have.every((c, i) => Number(c) === Number(want[i]))) return undefined;
  return `green runs ${greenVersion}, not the target version ${target}: install ${target} on green (and wipe it) first`;
}

export const blocking = (findings: readonly CompatFinding[]): CompatFinding[] =>
  findings.filter((f) => f.severity === 'blocking');

/** Findings as Markdown lines for the run's current details. */
export const findingLines = (findings: readonly CompatFinding[]): string =>
  findings.map((f) => `- **${f.severity}** ${f.check} \`${f.subject}\`: ${f.message}`).join('\n');
