// Step 7 of emergency recovery: the candidate applies what its relay log holds, then takes what it
// still lacks from more advanced replicas (planCatchUp decides; this only carries it out). A
// candidate that cannot be brought level is replaced by the most advanced allowed replica
// (whomToPromote): a new primary behind a replica loses what only that replica had.
import { ApplicationFailure } from '@temporalio/workflow';
import type { InspectResult } from '../../domain/topology';
import { gtidOps } from '../../domain/gtid';
import {
  planCatchUp,
  whomToPromote,
  type CatchUpPlan,
  type EmergencyNode,
  type ErrantFacts,
} from '../../domain/emergency';
import type { Cluster } from '../../domain/inventory';
import { rankCandidates } from '../../domain/ranking';
import { acts, boundedWait, call } from '../activities';
import { FailureType } from '../api';
import { failureMessage, failureType, type Runbook } from '../runbook';
import { nodeIn, replicasOf } from './nodes';

/** A wait "forever" is a series of bounded waits, so a dead worker is noticed between them. */
const WAIT_SLICE_SECONDS = 60;

export interface CaughtUp {
  plan: CatchUpPlan;
  /** Every step reached its position within its bound. */
  complete: boolean;
  warnings: string[];
}

/**
 * Catches `candidate` up from the positions read after the fence (`fresh`) and returns whom to
 * promote: the candidate, or the most advanced allowed replica when the candidate still lacks
 * something. Fails with CatchUpIncomplete (nothing promoted) when neither can be made complete.
 */
export async function catchUpOrReplace(
  run: Runbook,
  spec: Cluster,
  primary: string,
  candidate: string,
  fresh: InspectResult,
  errant: ErrantFacts,
): Promise<{ candidate: string; plan: CatchUpPlan; warnings: string[] }> {
  const others = replicasOf(fresh, primary).filter((n) => n.name !== candidate);
  const caught = await catchUp(run, spec, nodeIn(fresh, candidate), others, errant);
  const warnings = [...caught.warnings];
  if (caught.complete && caught.plan.lacking.length === 0) return { candidate, plan: caught.plan, warnings };

  const gtid = gtidOps(spec.flavor);
  const now = await run.step('read positions', undefined, () =>
    call(acts.inspectCluster, `discover ${spec.name}`, { cluster: spec.name, traffic: false }),
  );
  const replicas = replicasOf(now, primary);
  const stillLacking = planCatchUp({
    gtid,
    candidate: nodeIn(now, candidate),
    others: replicas.filter((n) => n.name !== candidate),
    relayLogWaitSeconds: 0, // what it holds now is what it is promoted with
    errant: errant.names,
    errantGtids: errant.gtids,
  }).lacking;
  const choice = whomToPromote({
    gtid,
    ranking: rankCandidates({ cluster: spec, primary, nodes: replicas, gtid }),
    candidate,
    replicas,
    lacking: stillLacking,
    policy: spec.policy.catchUp,
    why: caught.complete ? 'no replica it could copy from holds them' : 'its catch-up ran out of time',
    errant: errant.names,
    errantGtids: errant.gtids,
  });
  if (!choice.ok) throw catchUpIncomplete(primary, choice.reason);
  warnings.push(...choice.warnings);
  if (choice.candidate === candidate) return { candidate, plan: caught.plan, warnings };

  // The most advanced replica needs nothing from the others: only its own relay log.
  run.enterPhase('catch-up', `${choice.candidate} (the most advanced replica)`);
  const own = await catchUp(run, spec, nodeIn(now, choice.candidate), [], errant);
  warnings.push(...own.warnings);
  if (!own.complete && spec.policy.catchUp !== 'promote-anyway')
    throw catchUpIncomplete(primary, `${choice.candidate} did not apply its relay log in time`);
  return { candidate: choice.candidate, plan: own.plan, warnings };
}

const catchUpIncomplete = (primary: string, reason: string) =>
  ApplicationFailure.create({
    type: FailureType.CatchUpIncomplete,
    nonRetryable: true,
    message: `${primary} is fenced and nothing was promoted: ${reason}; start the recovery again to finish it`,
  });

export async function catchUp(
  run: Runbook,
  spec: Cluster,
  candidate: EmergencyNode,
  others: EmergencyNode[],
  errant: ErrantFacts,
): Promise<CaughtUp> {
  const cluster = spec.name;
  const plan = planCatchUp({
    gtid: gtidOps(spec.flavor),
    candidate,
    others,
    relayLogWaitSeconds: spec.policy.relayLogWaitSeconds,
    errant: errant.names,
    errantGtids: errant.gtids,
  });
  let complete = true;
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
      if (!reached) {
        complete = false;
        warnings.push(`${step.host} did not apply its whole relay log within ${step.timeoutSeconds} s`);
      }
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
      if (!reached) {
        complete = false;
        warnings.push(`${step.host} did not reach ${step.source}'s position ${step.until} in time`);
        break; // the candidate is replaced or the run stops: later sources would only delay that
      }
    }
  }
  return { plan, complete, warnings };
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
      if (failureType(e) !== FailureType.Timeout) throw e;
      run.enterPhase('catch-up', `${host} still applying: ${failureMessage(e)}`);
    }
  }
  return false;
}
