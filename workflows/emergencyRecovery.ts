// Emergency recovery: the primary is dead; promote the best replica in seconds without ever
// leaving two writable primaries, and never one that lacks what another replica has (DESIGN.md,
// seeds 001 and 002).
//
// Nothing changes before step 4 (freeze), and what step 4 changes is undone by a refusal or an
// abort: up to the fence (step 6) the cluster is left as it was. From the fence on, the run only
// rolls forward: a half-recovered cluster is worse than a recovered one, so failures there are
// retried and then reported, never undone.
import { ApplicationFailure, CancellationScope, ParentClosePolicy, startChild } from '@temporalio/workflow';
import {
  checkFlapping,
  chooseCandidate,
  errantFacts,
  levelCandidate,
  suspectedPrimary,
} from '../domain/emergency';
import type { FenceOutcome } from '../domain/emergency/fence';
import { gtidOps } from '../domain/gtid';
import { isUnprovisioned, notRepointed } from '../domain/provision/unprovisioned';
import {
  EmergencyRecoveryInputSchema,
  RUNBOOKS,
  type EmergencyRecoveryInput,
  type EmergencyRecoveryRequest,
  type EmergencyRecoveryResult,
} from '../domain/runbook';
import { acts, boundedWait, call, callLocal, localActs } from './activities';
import { ApprovalGate, askApproval } from './approvalGate';
import { FailureType, fenceWatchId } from './api';
import { catchUpOrReplace } from './emergency/catchUpCandidate';
import { confirmDeadPrimary } from './emergency/confirmDeadPrimary';
import { freezeAndRead, thawReplicas } from './emergency/freeze';
import { emergencyNodes, replicasOf } from './emergency/nodes';
import { notify } from './emergency/notify';
import { promoteWithTraffic } from './emergency/promote';
import { changed } from './patches';
import { fenceWatch } from './fenceWatch';
import { failureMessage, refused, type Runbook } from './runbook';
import { lockMeanwhile, runbook } from './scaffold';
import { persistRoles } from './persistRoles';
import { verifyInvariants } from './verify';

/** How long the fence watch keeps trying an old primary that does not answer. */
const FENCE_WATCH_SECONDS = 7 * 24 * 3600;

export async function emergencyRecovery(raw: EmergencyRecoveryInput): Promise<EmergencyRecoveryResult> {
  return runbook(RUNBOOKS.emergency, EmergencyRecoveryInputSchema, raw, async (run, input) => {
    const { cluster } = input;
    const gate = new ApprovalGate();
    const triggeredAt = recordTrigger(run, input);
    // Asked before the first local activity, as workflows/patches.ts requires.
    const lastBeside = changed('emergency-last-recovery-beside');

    // 1. Lock the cluster: one runbook per cluster at a time. Taking it costs a workflow start, so
    // it is taken while step 2 only reads; nothing changes before it is held. A runbook holding it
    // is asked to step aside, or waited for (policy.lockWaitSeconds): never a refusal outright.
    run.enterPhase('confirm');
    const spec = await run.step('load cluster spec', undefined, () =>
      callLocal(localActs.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
    );
    const lock = lockMeanwhile(run, { waitSeconds: spec.policy.lockWaitSeconds });
    // SSH to every host opens now, while the failure is confirmed: the fence, the traffic move and
    // the salvage then pay no handshake (~0.8 s). Best effort; a watching detector did it already.
    const warming = call(acts.warmConnections, `open SSH to the hosts of ${cluster}`, { cluster }).catch(
      () => undefined,
    );
    let primary: string | undefined;
    let newPrimary: string | undefined;
    let detected: Promise<void> = Promise.resolve();
    /** Replicas whose IO thread this run stopped, and whether the fence (no way back) began. */
    let frozen: string[] = [];
    let fenceStarted = false;
    try {
      // 2. Confirm the failure: the worker's probes AND the replicas' IO threads. The first
      // discovery doubles as the first "ask the replicas", so when the alert names the primary
      // the probes run alongside it. The last recovery is read meanwhile, as an activity
      // scheduled after the discovery: as a local activity it held back the first task's
      // commands (lock, discovery, probe) until Temporal's visibility had answered.
      const readLastRecovery = () =>
        run.step('last recovery', undefined, () =>
          lastBeside
            ? call(acts.lastRecovery, `last recovery of ${cluster}`, { cluster })
            : callLocal(localActs.lastRecovery, `last recovery of ${cluster}`, { cluster }),
        );
      const confirm = async () => {
        const discovering = run.step('discover', undefined, () =>
          call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
        );
        discovering.catch(() => undefined); // awaited by the first confirmation round
        const suspect = suspectedPrimary(input, spec, input.primary ? undefined : await discovering);
        if ('refusal' in suspect) throw refused(run.runbook, cluster, [suspect.refusal]);
        primary = suspect.primary;
        const confirmation = await confirmDeadPrimary(run, input, spec, primary, discovering);
        if (confirmation.verdict.verdict === 'undecidable')
          throw refused(run.runbook, cluster, [
            `the failure of ${primary} could not be confirmed: ${confirmation.verdict.reason}`,
          ]);
        return confirmation;
      };
      const readBefore = lastBeside ? undefined : readLastRecovery(); // runs recorded before the patch
      const confirming = confirm();
      const lastRecovery = readBefore ?? readLastRecovery();
      lastRecovery.catch(() => undefined); // awaited in step 3
      let { verdict, seen } = await confirming;
      if (verdict.verdict === 'confirmed') {
        // The hooks hear of it at once but are not waited for: the recovery does not depend on them.
        detected = notify(run, 'detected', { cluster, primary: primary!, reason: input.reason ?? '' });
        // A holder that could not step aside may have changed the cluster while we waited for it.
        if ((await lock.held).waitedFor) ({ verdict, seen } = await confirm());
      }
      if (verdict.verdict !== 'confirmed') {
        run.enterPhase('false-alarm', verdict.reason);
        return {
          ok: true,
          cluster,
          outcome: 'false-alarm',
          primary: primary!,
          newPrimary: null,
          recoveryMs: null,
          reason: `false alarm, nothing was changed: ${verdict.reason}`,
          evidence: verdict.evidence,
          warnings: [],
          timeline: run.timeline,
          topology: seen.view,
        };
      }
      if (!primary) throw new Error('no primary after the confirmation'); // narrows; never happens

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
        throw refused(run.runbook, cluster, [`${flapping.reason} (last: ${last?.workflowId})`]);
      const warnings = flapping.note ? [flapping.note] : [];

      // 4. Freeze what the replicas received (IO threads stopped), then read the positions the
      // decision rests on: a partitioned primary can no longer move them.
      const settled = await freezeAndRead(run, primary, seen, {
        atOnce: changed('emergency-freeze-and-read'),
        onFreeze: (replicas) => (frozen = replicas),
      });

      // 5. Choose the candidate (ranking, errant GTIDs) and never one that lacks what another
      // replica has and cannot take from it; then the human approval when the policy asks.
      const gtid = gtidOps(spec.flavor);
      const choice = chooseCandidate({ cluster: spec, primary, nodes: emergencyNodes(settled), gtid });
      warnings.push(...choice.warnings);
      if (!choice.ok) throw refused(run.runbook, cluster, [choice.refusal]);
      const errant = errantFacts(choice.errant, spec.flavor);
      const level = levelCandidate({
        gtid,
        ranking: choice.ranking,
        candidate: choice.candidate,
        replicas: replicasOf(settled, primary),
        relayLogWaitSeconds: spec.policy.relayLogWaitSeconds,
        policy: spec.policy.catchUp,
        errant,
      });
      if (!level.ok) throw refused(run.runbook, cluster, [level.reason]);
      warnings.push(...level.warnings);
      let candidate = level.candidate;
      if (spec.policy.requireApproval) {
        const why = choice.ranking.candidates.find((c) => c.name === candidate)?.reasons.join('; ') ?? '';
        await approve(run, gate, `${primary} is dead; promote **${candidate}** (${why})?`, candidate, {
          timeoutSeconds: input.approvalTimeoutSeconds ?? spec.policy.approvalTimeoutSeconds,
        });
      }

      // 6. Fence the old primary, best effort and recorded: from here the run rolls forward only.
      // Fresh positions are read meanwhile (reading changes nothing). A host whose mysqld is down
      // keeps the traffic until the promotion (emergency/promote.ts).
      const trafficAtPromotion = changed('emergency-traffic-at-promotion');
      fenceStarted = true;
      run.enterPhase(
        'fence',
        `${primary} → ${candidate}\n\n${choice.ranking.candidates
          .map(
            (c) => `- ${c.eligible ? '' : '~~'}${c.name}${c.eligible ? '' : '~~'}: ${c.reasons.join('; ')}`,
          )
          .join('\n')}`,
      );
      const [fencing, fresh] = await Promise.all([
        run.step(
          'fence',
          primary,
          () =>
            call(acts.fenceOldPrimary, `fence ${primary}`, {
              cluster,
              host: primary!,
              ...(trafficAtPromotion ? { trafficMayWait: true } : {}),
            }),
          (f) => `read_only ${f.readOnly.status}, traffic ${f.traffic.status}, command ${f.command.status}`,
        ),
        run.step('read positions', undefined, () =>
          call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
        ),
      ]);

      // 7. Catch up: the relay log first, then what more advanced replicas have. A candidate that
      // cannot be brought level is replaced by the most advanced allowed replica.
      run.enterPhase('catch-up', candidate);
      const caught = await catchUpOrReplace(run, spec, primary, candidate, fresh, errant);
      warnings.push(...caught.warnings);
      candidate = caught.candidate;

      // 8. Salvage: a dead mysqld on a host that answers SSH left its binary log there. What it
      // holds and the candidate lacks is applied to the candidate with its GTIDs before the
      // candidate takes writes; the other replicas then receive it from the new primary.
      const salvage = await run.step(
        'salvage',
        primary,
        () =>
          call(
            acts.salvageBinlog,
            `salvage ${primary}'s binary log into ${candidate}`,
            {
              cluster,
              failed: primary!,
              candidate,
              seconds: spec.policy.salvageSeconds,
              mysqldAnswered: fencing.readOnly.status === 'done',
              sshAnswered: sshAnswered(fencing.optionFile),
            },
            boundedWait(spec.policy.salvageSeconds),
          ),
        (s) =>
          `${s.status}: ${s.detail}${s.notSalvaged.length ? `; not salvaged: ${s.notSalvaged.join(', ')}` : ''}`,
      );
      if (salvage.status === 'partial' || salvage.status === 'refused')
        warnings.push(
          `salvage of ${primary}'s binary log ${salvage.status}: ${salvage.detail}; not salvaged: ${salvage.notSalvaged.join(', ')}`,
        );

      // 9. Promote, and 10. the writer traffic to it (emergency/promote.ts). The old primary
      // stays fenced.
      run.enterPhase('promote', `${candidate} becomes the primary`);
      const promoted = await promoteWithTraffic(run, {
        primary,
        candidate,
        atOnce: trafficAtPromotion,
        oldHoldsTraffic: fencing.traffic.status === 'deferred',
        promoted: () => void (newPrimary = candidate),
      });
      warnings.push(...promoted.warnings);
      const recoveryMs = promoted.writableAt - triggeredAt;

      // 11. Repoint the dead primary's replicas. A node outside its tree (an earlier fenced
      // primary) is left as it is for a human, and named. An unprovisioned (empty) node is never
      // pointed at the new primary: it would try to replay the whole history.
      run.enterPhase('repoint', `${candidate} is the primary (${recoveryMs} ms after the trigger)`);
      const others = fresh.topology.nodes.filter((n) => n.name !== candidate && n.name !== primary);
      const followers = others.filter((n) => n.reachable && n.replication?.source === primary);
      for (const n of others.filter(isUnprovisioned)) warnings.push(notRepointed(n.name, candidate));
      const strays = others
        .filter((n) => n.reachable && !n.replication && !isUnprovisioned(n))
        .map((n) => n.name);
      for (const s of strays) warnings.push(`${s} replicates from no one: left as it is (not repointed)`);
      // The fence wrote the old primary's read_only file when its host answered SSH; the new
      // primary's is removed meanwhile, so a restart of it does not come back read-only.
      const persisting = persistRoles(run, {
        primary: candidate,
        readOnly: [],
        why: `emergency recovery ${primary} → ${candidate}`,
      });
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

      await persisting;
      if (fencing.optionFile && fencing.optionFile.status !== 'done')
        warnings.push(fencing.optionFile.detail);

      // 12. Verify, report, and keep fencing the old primary until it answers.
      run.enterPhase('verify');
      await warming;
      const after = await verifyInvariants(run, cluster, candidate, [primary, ...strays]);
      const watch = await watchOldPrimary(
        run,
        spec.flavor,
        primary,
        candidate,
        spec.policy.rejoin === 'auto',
      );
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
        salvage,
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
      if (!fenceStarted && frozen.length > 0) await thawReplicas(run, frozen);
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
      await lock.release();
    }
  });
}

/** The trigger's own moment starts the timeline and the recovery clock, when it gave one. */
function recordTrigger(run: Runbook, input: EmergencyRecoveryRequest): number {
  const { source } = input;
  if (!source.receivedAt) return Date.now();
  run.record([
    {
      step: `${source.kind === 'webhook' ? `${source.system ?? 'webhook'} alert` : `${source.kind} trigger`} received`,
      start: source.receivedAt,
      end: source.receivedAt,
      ms: 0,
      status: 'done',
      detail: [source.alert?.name, source.alert?.fingerprint, input.reason].filter(Boolean).join(' · '),
    },
  ]);
  return Date.parse(source.receivedAt);
}

/** Step 5's approval: anything but an approval refuses, with nothing changed past the freeze. */
async function approve(
  run: Runbook,
  gate: ApprovalGate,
  question: string,
  candidate: string,
  { timeoutSeconds }: { timeoutSeconds: number },
): Promise<void> {
  const approval = await askApproval(run, gate, { question, host: candidate, timeoutSeconds });
  if (approval.decision !== 'approved')
    throw refused(run.runbook, run.cluster, [
      approval.decision === 'aborted'
        ? `aborted${approval.by ? ` by ${approval.by}` : ''} before anything was changed${approval.comment ? `: ${approval.comment}` : ''}`
        : `no approval within ${timeoutSeconds} s: aborted, nothing was changed`,
    ]);
}

/** Step 12's fence watch: a child that outlives the run; its id, or why it did not start. */
async function watchOldPrimary(
  run: Runbook,
  flavor: 'mariadb' | 'mysql',
  primary: string,
  newPrimary: string,
  rejoin: boolean,
): Promise<string> {
  const { cluster } = run;
  const watchId = fenceWatchId(cluster, primary);
  return startChild(fenceWatch, {
    workflowId: watchId,
    args: [
      {
        cluster,
        flavor,
        host: primary,
        newPrimary,
        intervalSeconds: 2,
        untilIso: new Date(Date.now() + FENCE_WATCH_SECONDS * 1000).toISOString(),
        rejoin,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `keep fencing ${primary} (old primary of ${cluster}); report what it has that ${newPrimary} lacks`,
  })
    .then(() => watchId)
    .catch((e: unknown) => `${watchId} not started: ${failureMessage(e)}`);
}

/** Whether the fence's write over SSH (the option file) found the host answering; null: not tried. */
const sshAnswered = (o: FenceOutcome | undefined) =>
  o?.status === 'done' ? true : o?.status === 'failed' ? false : null;

const isRefusal = (e: unknown) => e instanceof ApplicationFailure && e.type === FailureType.Refused;
