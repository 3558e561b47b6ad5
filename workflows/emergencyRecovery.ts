// Emergency recovery: the primary is dead; promote the best replica in seconds without ever
// leaving two writable primaries (DESIGN.md, seeds 001 and 002).
//
// Nothing changes before step 5 (fence): a false alarm, a refusal or an abort leaves the cluster
// as it was. From the fence on, the run only rolls forward: a half-recovered cluster is worse than
// a recovered one, so failures there are retried and then reported, never undone.
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { checkFlapping, chooseCandidate, type EmergencyNode } from '../domain/emergency';
import { gtidOps } from '../domain/gtid';
import { isUnprovisioned, notRepointed } from '../domain/provision/unprovisioned';
import {
  EmergencyRecoveryInputSchema,
  parseInput,
  RUNBOOKS,
  type EmergencyRecoveryInput,
  type EmergencyRecoveryResult,
} from '../domain/runbook';
import type { InspectResult } from '../domain/topology';
import { acts, call, callLocal, localActs } from './activities';
import { FailureType, fenceWatchId, runSearchAttributes } from './api';
import { ApprovalGate } from './emergency/approval';
import { catchUp } from './emergency/catchUp';
import { confirmDeadPrimary, suspectedPrimary } from './emergency/confirm';
import { fenceWatch } from './fenceWatch';
import { failureMessage, refused, Runbook } from './runbook';
import { verifyInvariants } from './verify';

/** How long the fence watch keeps trying an old primary that does not answer. */
const FENCE_WATCH_SECONDS = 7 * 24 * 3600;

export async function emergencyRecovery(raw: EmergencyRecoveryInput): Promise<EmergencyRecoveryResult> {
  const input = validated(raw);
  const { cluster } = input;
  const run = new Runbook(RUNBOOKS.emergency, cluster);
  const gate = new ApprovalGate();
  upsertSearchAttributes(runSearchAttributes(cluster, RUNBOOKS.emergency));
  const triggeredAt = input.source.receivedAt ? Date.parse(input.source.receivedAt) : Date.now();
  if (input.source.receivedAt)
    run.record([
      {
        step: `${input.source.kind === 'webhook' ? `${input.source.system ?? 'webhook'} alert` : `${input.source.kind} trigger`} received`,
        start: input.source.receivedAt,
        end: input.source.receivedAt,
        ms: 0,
        status: 'done',
        detail: [input.source.alert?.name, input.source.alert?.fingerprint, input.reason]
          .filter(Boolean)
          .join(' · '),
      },
    ]);

  // 1. Lock the cluster: one runbook per cluster at a time. Taking it costs a workflow start, so
  // it runs while step 2 only reads; nothing changes before it is held (awaited before step 3).
  run.enterPhase('confirm');
  const locking = run.step('lock', undefined, () =>
    call(acts.acquireClusterLock, `lock cluster ${cluster}`, { cluster, runbook: RUNBOOKS.emergency }),
  );
  locking.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  let primary: string | undefined;
  let newPrimary: string | undefined;
  let detected: Promise<void> = Promise.resolve();
  try {
    // 2. Confirm the failure: the worker's probes AND the replicas' IO threads. The spec is a
    // local read; the first discovery doubles as the first "ask the replicas", so when the alert
    // names the primary the probes run alongside it. The last recovery is read meanwhile too.
    const spec = await run.step('load cluster spec', undefined, () =>
      callLocal(localActs.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
    );
    const lastRecovery = run.step('last recovery', undefined, () =>
      callLocal(localActs.lastRecovery, `last recovery of ${cluster}`, { cluster }),
    );
    lastRecovery.catch(() => undefined); // awaited in step 3
    const discovering = run.step('discover', undefined, () =>
      call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
    );
    discovering.catch(() => undefined); // awaited by the first confirmation round
    const suspect = suspectedPrimary(input, spec, input.primary ? undefined : await discovering);
    if ('refusal' in suspect) throw refused(RUNBOOKS.emergency, cluster, [suspect.refusal]);
    primary = suspect.primary;
    const { verdict, seen } = await confirmDeadPrimary(run, input, spec, primary, discovering);
    if (verdict.verdict === 'false-alarm') {
      run.enterPhase('false-alarm', verdict.reason);
      return {
        ok: true,
        cluster,
        outcome: 'false-alarm',
        primary,
        newPrimary: null,
        recoveryMs: null,
        reason: `false alarm, nothing was changed: ${verdict.reason}`,
        evidence: verdict.evidence,
        warnings: [],
        timeline: run.timeline,
        topology: seen.view,
      };
    }
    if (verdict.verdict === 'undecidable')
      throw refused(RUNBOOKS.emergency, cluster, [
        `the failure of ${primary} could not be confirmed: ${verdict.reason}`,
      ]);
    // The hooks hear of it at once but are not waited for: the recovery does not depend on them.
    detected = notify(run, 'detected', { cluster, primary, reason: input.reason ?? '' });
    await locking;

    // 3. Anti-flapping: a recovery right after another needs a human's acknowledgement.
    const last = await lastRecovery;
    const flapping = checkFlapping({
      cluster,
      lastRecoveryEnd: last?.endedAt,
      now: Date.now(),
      recoveryBlockSeconds: spec.policy.recoveryBlockSeconds,
      ackFlapping: input.ackFlapping,
    });
    if (!flapping.allowed)
      throw refused(RUNBOOKS.emergency, cluster, [`${flapping.reason} (last: ${last?.workflowId})`]);
    const warnings = flapping.note ? [flapping.note] : [];

    // 4. Choose the candidate (ranking, errant GTIDs), then the human approval when asked for.
    const gtid = gtidOps(spec.flavor);
    const nodes = emergencyNodes(seen);
    const choice = chooseCandidate({ cluster: spec, primary, nodes, gtid });
    warnings.push(...choice.warnings);
    if (!choice.ok) throw refused(RUNBOOKS.emergency, cluster, [choice.refusal]);
    const candidate = choice.candidate;
    const why = choice.ranking.candidates.find((c) => c.name === candidate)?.reasons.join('; ') ?? '';
    if (spec.policy.requireApproval) {
      run.enterPhase(
        'approval',
        `${primary} is dead; promote **${candidate}** (${why})? Send the \`approve\` or \`abort\` update.`,
      );
      const approval = await run.step(
        'approval',
        candidate,
        () => gate.wait(input.approvalTimeoutSeconds ?? spec.policy.approvalTimeoutSeconds),
        (a) => `${a.decision}${a.by ? ` by ${a.by}` : ''}${a.comment ? `: ${a.comment}` : ''}`,
      );
      if (approval.decision !== 'approved')
        throw refused(RUNBOOKS.emergency, cluster, [
          approval.decision === 'aborted'
            ? `aborted${approval.by ? ` by ${approval.by}` : ''} before anything was changed${approval.comment ? `: ${approval.comment}` : ''}`
            : `no approval within ${input.approvalTimeoutSeconds ?? spec.policy.approvalTimeoutSeconds} s: aborted, nothing was changed`,
        ]);
    }

    // 5. Fence the old primary, best effort and recorded: from here the run rolls forward only.
    run.enterPhase(
      'fence',
      `${primary} → ${candidate}\n\n${choice.ranking.candidates
        .map((c) => `- ${c.eligible ? '' : '~~'}${c.name}${c.eligible ? '' : '~~'}: ${c.reasons.join('; ')}`)
        .join('\n')}`,
    );
    // Fresh positions are read meanwhile (replicas only: reading changes nothing).
    const [fencing, fresh] = await Promise.all([
      run.step(
        'fence',
        primary,
        () => call(acts.fenceOldPrimary, `fence ${primary}`, { cluster, host: primary! }),
        (f) => `read_only ${f.readOnly.status}, traffic ${f.traffic.status}, command ${f.command.status}`,
      ),
      run.step('read positions', undefined, () =>
        call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
      ),
    ]);

    // 6-7. Catch up from the fresh positions: the relay log first, then more advanced replicas.
    run.enterPhase('catch-up', `${candidate}`);
    const freshNodes = emergencyNodes(fresh);
    const errantNames = choice.errant.filter((r) => r.errant).map((r) => r.name);
    const caught = await catchUp(
      run,
      spec,
      freshNodes.find((n) => n.name === candidate)!,
      freshNodes.filter((n) => n.name !== candidate && n.name !== primary),
      errantNames,
    );
    warnings.push(...caught.warnings);

    // 8. Promote, move the traffic, repoint the other replicas. The old primary stays fenced.
    run.enterPhase('promote', `${candidate} becomes the primary`);
    await run.step('promote', candidate, () =>
      call(acts.promote, `promote ${candidate}`, { cluster, host: candidate }),
    );
    newPrimary = candidate;
    await run.step(
      'traffic to new primary',
      candidate,
      () => call(acts.attachTraffic, `writer traffic to ${candidate}`, { cluster, host: candidate }),
      (r) => r?.detail ?? 'no traffic router',
    );
    const recoveryMs = Date.now() - triggeredAt;
    run.enterPhase('repoint', `${candidate} is the primary (${recoveryMs} ms after the trigger)`);
    // Only the dead primary's replicas move; a node outside the tree (an earlier fenced primary)
    // is left as it is for a human, and named. An unprovisioned (empty) node is never pointed at
    // the new primary: it would try to replay the whole history.
    const others = fresh.topology.nodes.filter((n) => n.name !== candidate && n.name !== primary);
    const followers = others.filter((n) => n.reachable && n.replication?.source === primary);
    for (const n of others.filter(isUnprovisioned)) warnings.push(notRepointed(n.name, candidate));
    const strays = others
      .filter((n) => n.reachable && !n.replication && !isUnprovisioned(n))
      .map((n) => n.name);
    for (const s of strays) warnings.push(`${s} replicates from no one: left as it is (not repointed)`);
    await Promise.all(
      followers.map((n) =>
        run.step('repoint', n.name, () =>
          call(acts.repoint, `repoint ${n.name} to ${candidate}`, {
            cluster,
            host: n.name,
            source: candidate,
          }),
        ),
      ),
    );

    // 9. Verify, report, and keep fencing the old primary until it answers.
    run.enterPhase('verify');
    const after = await verifyInvariants(run, cluster, candidate, [primary, ...strays]);
    const watchId = fenceWatchId(cluster, primary);
    const watch = await startChild(fenceWatch, {
      workflowId: watchId,
      args: [
        {
          cluster,
          flavor: spec.flavor,
          host: primary,
          newPrimary: candidate,
          intervalSeconds: 2,
          untilIso: new Date(Date.now() + FENCE_WATCH_SECONDS * 1000).toISOString(),
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `keep fencing ${primary} (old primary of ${cluster}); report what it has that ${candidate} lacks`,
    })
      .then(() => watchId)
      .catch((e: unknown) => `${watchId} not started: ${failureMessage(e)}`);
    await detected;
    await notify(run, 'succeeded', {
      cluster,
      primary,
      newPrimary: candidate,
      recoveryMs: String(recoveryMs),
    });
    run.enterPhase('recovered', `${primary} → ${candidate} in ${recoveryMs} ms`);
    return {
      ok: true,
      cluster,
      outcome: 'recovered',
      primary,
      newPrimary: candidate,
      recoveryMs,
      reason: input.reason ?? `${primary} confirmed dead`,
      evidence: verdict.evidence,
      ranking: choice.ranking,
      errant: choice.errant,
      fencing,
      catchUp: caught.plan,
      lost: {
        known: false,
        summary: `${primary} does not answer: ${watch} reports what it has that ${candidate} lacks once it does`,
      },
      fenceWatch: watch,
      warnings,
      timeline: run.timeline,
      topology: after.view,
    };
  } catch (e) {
    await detected.catch(() => undefined);
    if (primary && !isRefusal(e))
      await CancellationScope.nonCancellable(() =>
        notify(run, 'failed', {
          cluster,
          primary: primary!,
          newPrimary: newPrimary ?? '',
          reason: failureMessage(e),
        }),
      );
    throw e;
  } finally {
    if (
      await locking.then(
        () => true,
        () => false,
      )
    )
      await CancellationScope.nonCancellable(() =>
        call(acts.releaseClusterLock, `unlock cluster ${cluster}`, { cluster }),
      );
  }
}

function emergencyNodes(seen: InspectResult): EmergencyNode[] {
  return seen.topology.nodes.map((n) => (seen.relay[n.name] ? { ...n, relay: seen.relay[n.name] } : n));
}

/** Hooks are best effort: their outcome is in the timeline, a failing hook never fails the run. */
async function notify(
  run: Runbook,
  event: 'detected' | 'succeeded' | 'failed',
  facts: Record<string, string>,
) {
  await run.step(
    `notify ${event}`,
    undefined,
    () => call(acts.notify, `hooks: ${event}`, { cluster: facts.cluster, event, facts }),
    (r) => (r.length ? r.map((o) => `${o.status}: ${o.detail}`).join('; ') : 'no hooks'),
  );
}

const isRefusal = (e: unknown) => e instanceof ApplicationFailure && e.type === FailureType.Refused;

function validated(raw: EmergencyRecoveryInput) {
  try {
    return parseInput(EmergencyRecoveryInputSchema, RUNBOOKS.emergency, raw);
  } catch (e) {
    throw ApplicationFailure.create({
      type: FailureType.BadInput,
      message: (e as Error).message,
      nonRetryable: true,
    });
  }
}
