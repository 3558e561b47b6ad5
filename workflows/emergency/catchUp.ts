// Step 7 of emergency recovery: the candidate applies what its relay log holds, then takes what it
// still lacks from more advanced replicas (planCatchUp decides; this only carries it out).
import { gtidOps } from '../../domain/gtid';
import { planCatchUp, type CatchUpPlan, type EmergencyNode } from '../../domain/emergency';
import type { Cluster } from '../../domain/inventory';
import { acts, boundedWait, call } from '../activities';
import { failureMessage, failureType, type Runbook } from '../runbook';

/** A wait "forever" is a series of bounded waits, so a dead worker is noticed between them. */
const WAIT_SLICE_SECONDS = 60;

export async function catchUp(
  run: Runbook,
  spec: Cluster,
  candidate: EmergencyNode,
  others: EmergencyNode[],
  errant: string[],
): Promise<{ plan: CatchUpPlan; warnings: string[] }> {
  const cluster = spec.name;
  const plan = planCatchUp({
    gtid: gtidOps(spec.flavor),
    candidate,
    others,
    relayLogWaitSeconds: spec.policy.relayLogWaitSeconds,
    errant,
  });
  const warnings = [
    ...plan.warnings,
    ...plan.notUsed.map((n) => `${n.name} not used to catch up: ${n.reason}`),
  ];
  for (const step of plan.steps) {
    if (step.kind === 'apply-relay-log') {
      const reached = await waitApplied(
        run,
        cluster,
        step.host,
        step.position,
        step.timeoutSeconds,
        'apply relay log',
      );
      if (!reached)
        warnings.push(
          `${step.host} did not apply its whole relay log within ${step.timeoutSeconds} s: what was left is discarded by the promotion`,
        );
    } else {
      await run.step(`replicate from ${step.source}`, step.host, () =>
        call(acts.repoint, `${step.host} replicates from ${step.source} to catch up`, {
          cluster,
          host: step.host,
          source: step.source,
        }),
      );
      const reached = await waitApplied(
        run,
        cluster,
        step.host,
        step.until,
        spec.policy.relayLogWaitSeconds < 0 ? null : Math.max(spec.policy.relayLogWaitSeconds, 10),
        `catch up from ${step.source}`,
      );
      if (!reached)
        warnings.push(`${step.host} did not reach ${step.source}'s position ${step.until} in time`);
    }
  }
  return { plan, warnings };
}

/** True when reached; false when the bound ran out (null: no bound). */
async function waitApplied(
  run: Runbook,
  cluster: string,
  host: string,
  position: string,
  timeoutSeconds: number | null,
  step: string,
): Promise<boolean> {
  for (let waited = 0; timeoutSeconds === null || waited < timeoutSeconds; waited += WAIT_SLICE_SECONDS) {
    const slice = Math.min(
      WAIT_SLICE_SECONDS,
      timeoutSeconds === null ? WAIT_SLICE_SECONDS : timeoutSeconds - waited,
    );
    try {
      await run.step(step, host, () =>
        call(
          acts.waitUntilApplied,
          `${host} applies ${position}`,
          { cluster, host, position, timeoutSeconds: slice },
          boundedWait(slice),
        ),
      );
      return true;
    } catch (e) {
      if (failureType(e) !== 'Timeout') throw e;
      run.enterPhase('catch-up', `${host} still applying: ${failureMessage(e)}`);
    }
  }
  return false;
}
