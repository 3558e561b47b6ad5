// Step 2 of emergency recovery: confirm the failure before anything changes. The worker probes the
// primary AND asks the replicas; replicas notice a cut link only after their heartbeat timeout, so
// "they still stream" is asked again until `confirmTimeoutSeconds`, while a primary that answers
// ends the run at once.
import { sleep } from '@temporalio/workflow';
import { confirmFailure, type FailureVerdict } from '../../domain/emergency';
import type { Cluster } from '../../domain/inventory';
import type { EmergencyRecoveryRequest } from '../../domain/runbook';
import type { InspectResult } from '../../domain/topology';
import { acts, call } from '../activities';
import type { Runbook } from '../runbook';

export interface Confirmation {
  verdict: FailureVerdict;
  seen: InspectResult;
}

/**
 * `firstLook`, when given, is a discovery already under way: the first round uses it instead of
 * asking the replicas again, so the probes start while it runs.
 */
export async function confirmDeadPrimary(
  run: Runbook,
  input: EmergencyRecoveryRequest,
  spec: Cluster,
  primary: string,
  firstLook?: Promise<InspectResult>,
): Promise<Confirmation> {
  const { cluster } = input;
  const deadline = Date.now() + input.confirmTimeoutSeconds * 1000;
  const probes = input.probes ?? spec.policy.detector.probes;
  for (let round = 1; ; round++) {
    // The replicas are asked while the worker probes: both describe the same moment.
    const [tried, seen] = await Promise.all([
      run.step(
        `probe ${primary}`,
        primary,
        () =>
          call(
            acts.probePrimary,
            `probe ${primary} ${probes}× every ${input.probeIntervalMs} ms`,
            { cluster, host: primary, probes, intervalMs: input.probeIntervalMs },
            {
              startToCloseTimeout: `${Math.ceil((probes * (input.probeIntervalMs + 1500)) / 1000) + 10} seconds`,
              heartbeatTimeout: '10 seconds',
              retry: { maximumAttempts: 3 },
            },
          ),
        (p) => `${p.filter((x) => !x.ok).length} of ${p.length} failed`,
      ),
      round === 1 && firstLook
        ? firstLook
        : run.step('ask the replicas', undefined, () =>
            call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
          ),
    ]);
    const verdict = confirmFailure({
      cluster: spec,
      nodes: seen.topology.nodes,
      primary,
      probes: tried,
      minProbes: probes,
    });
    if (verdict.verdict === 'confirmed') return { verdict, seen };
    const answered =
      tried.some((p) => p.ok) || seen.topology.nodes.some((n) => n.name === primary && n.reachable);
    // Asked twice at least: a slow first round (a loaded worker) must not use up the bound alone.
    if (answered || (Date.now() >= deadline && round >= 2)) return { verdict, seen };
    run.enterPhase('confirm', `round ${round}: ${verdict.reason}; asking again`);
    await sleep(input.probeIntervalMs);
  }
}
