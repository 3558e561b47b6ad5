// The planned successover after its point of no return: what it says when it fails there, and how
// the same request started again finishes the work (traffic, repoint, roles) instead of refusing.
import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import { switchState, type Unfinished } from '../domain/planned/rollForward';
import { standbyOf } from '../domain/topology';
import type { PlannedSuccessoverResult } from '../domain/runbook';
import { acts, call } from './activities';
import { FailureType } from './api';
import { persistRoles } from './persistRoles';
import { failureMessage, type Runbook } from './runbook';
import { verifyInvariants } from './verify';

/** A failure past the point of no return, naming what is done and what is not. */
export async function unfinishedFailure(
  run: Runbook,
  primary: string,
  target: string,
  e: unknown,
): Promise<ApplicationFailure> {
  const now = await CancellationScope.nonCancellable(() =>
    call(acts.inspectCluster, `discover ${run.cluster}`, { cluster: run.cluster }).catch(() => null),
  );
  const state = now ? switchState(now.topology, now.trafficHolders, target)?.state : undefined;
  return ApplicationFailure.create({
    type: FailureType.Unfinished,
    nonRetryable: true,
    cause: e instanceof Error ? e : undefined,
    message: `planned successover ${primary} → ${target} on ${run.cluster} failed after its point of no return (${failureMessage(e)}): ${
      state ?? `${target} was promoted; the cluster's state could not be read`
    }; start it again with target ${target} to finish it`,
  });
}

/** Step 3's other branch: the target already is the one writable node, the rest is finished. */
export async function rollForward(run: Runbook, u: Unfinished): Promise<PlannedSuccessoverResult> {
  const { cluster } = run;
  const { target } = u;
  run.preemptible = false;
  run.enterPhase('roll-forward', u.state);
  if (u.trafficMissing)
    await run.step(
      'traffic to target',
      target,
      () => call(acts.attachTraffic, `writer traffic to ${target}`, { cluster, host: target }),
      (r) => r?.detail ?? 'no traffic router',
    );
  for (const host of u.trafficElsewhere)
    await run.step(
      'traffic off old primary',
      host,
      () => call(acts.detachTraffic, `writer traffic off ${host}`, { cluster, host }),
      (r) => r?.detail ?? 'no traffic router',
    );
  // Step 5h left undone: the target forgets its old source before that source is repointed to it
  // (else the two would replicate both ways, a pair nobody built).
  if (u.forgetSource)
    await run.step('forget old source', target, () =>
      call(acts.promote, `${target} forgets its old source ${u.forgetSource}`, { cluster, host: target }),
    );
  // A node replicating from no one is the old primary: demoted, its own writes kept as history.
  const demoted = u.notRepointed.filter((n) => n.source === null).map((n) => n.name);
  await Promise.all(
    u.notRepointed.map((n) =>
      run.step('repoint', n.name, () =>
        call(acts.repoint, `repoint ${n.name} to ${target}`, {
          cluster,
          host: n.name,
          source: target,
          demote: demoted.includes(n.name),
        }),
      ),
    ),
  );
  const warnings = [
    `finished an earlier successover to ${target} that stopped after its point of no return: ${u.state}`,
    ...(await persistRoles(run, {
      primary: target,
      readOnly: demoted,
      why: `successover to ${target} finished`,
    })),
  ];
  run.enterPhase('verify');
  const after = await verifyInvariants(run, cluster, target);
  run.enterPhase('done', `${target} is the primary: the earlier successover is finished`);
  return {
    ok: true,
    cluster,
    primary: demoted[0] ?? target,
    target,
    dryRun: false,
    blackoutMs: null,
    timeline: run.timeline,
    plan: [],
    warnings,
    forced: [],
    pair: standbyOf(after.topology, target) !== null,
    topology: after.view,
  };
}
