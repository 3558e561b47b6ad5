// Blue/green upgrade: provision a green replica running the new version, soak it while checking
// replication and compatibility, cut over with a planned successover in the window, and keep blue
// replicating from green for a rollback window (DESIGN.md, seed 000 "MySQL Version Upgrades").
//
// The run holds no cluster lock itself: each child that changes the cluster (provisioning's
// attach, the cutover, the rollback) takes it for its own span, so an emergency recovery is never
// blocked by an hours-long soak or rollback window. Nothing changes on blue or the other replicas
// before the cutover; a refusal up to then leaves at most a provisioned green replica behind.
import { condition, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  BlueGreenUpgradeInputSchema,
  RUNBOOKS,
  type BlueGreenUpgradeInput,
  type BlueGreenUpgradeRequest,
  type BlueGreenUpgradeResult,
  type PlannedSuccessoverInput,
  type ProvisionReplicaInput,
} from '../domain/runbook';
import { checkCompatibility } from '../domain/upgrade/compat';
import {
  blocking,
  findingLines,
  preflightBlueGreen,
  targetVersionProblem,
} from '../domain/upgrade/blueGreen';
import { acts, call, callLocal, localActs } from './activities';
import {
  finalizeSignal,
  provisionWorkflowId,
  rollbackSignal,
  workflowIdFor,
  type RollbackRequest,
} from './api';
import { ApprovalGate, askApproval } from './approvalGate';
import { blueGreenSoak } from './blueGreenSoak';
import { waitInChild } from './historyBound';
import { plannedSuccessover } from './plannedSuccessover';
import { provisionReplica } from './provisionReplica';
import { refused, type Runbook } from './runbook';
import { runbook } from './scaffold';
import { waitForWindow } from './window';

export async function blueGreenUpgrade(raw: BlueGreenUpgradeInput): Promise<BlueGreenUpgradeResult> {
  return runbook(RUNBOOKS.upgrade, BlueGreenUpgradeInputSchema, raw, async (run, input) => {
    const { cluster, greenHost: green } = input;
    const gate = new ApprovalGate();
    const warnings: string[] = [];
    let decision: { kind: 'rollback' | 'finalize'; by?: string; comment?: string } | undefined;
    let inRollbackWindow = false;
    const decide = (kind: 'rollback' | 'finalize') => (req: RollbackRequest) => {
      // A signal cannot be refused; one outside the rollback window is recorded and ignored.
      if (!inRollbackWindow || decision) {
        warnings.push(
          `${kind}${req?.by ? ` by ${req.by}` : ''} ignored: ${decision ? `already ${decision.kind}` : 'not in the rollback window'}`,
        );
        return;
      }
      decision = { kind, ...(req ?? {}) };
    };
    setHandler(rollbackSignal, decide('rollback'));
    setHandler(finalizeSignal, decide('finalize'));

    // 1. Preflight: blue is the one writable node; green is a host of the cluster that answers.
    run.enterPhase('preflight');
    const spec = await run.step('load cluster spec', undefined, () =>
      callLocal(localActs.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
    );
    const before = await run.step('discover', undefined, () =>
      call(acts.inspectCluster, `discover ${cluster}`, { cluster }),
    );
    const start = preflightBlueGreen({ cluster: spec, topology: before.topology, green });
    if (!start.ok) throw refused(run.runbook, cluster, start.refusals);
    const { blue } = start;
    run.enterPhase('preflight', `blue ${blue} → green ${green}`);

    // 2. Provision green (child run), unless it already replicates from blue.
    let provisioning = `${green} already replicates from ${blue}: not provisioned again`;
    if (start.green === 'provision') {
      run.enterPhase('provision', `green ${green} from a consistent copy`);
      const workflowId = provisionWorkflowId(cluster, green);
      const child: ProvisionReplicaInput = {
        cluster,
        host: green,
        wipe: input.wipe,
        ...(input.donor ? { donor: input.donor } : {}),
        ...(input.method ? { method: input.method } : {}),
      };
      await run.step('provision green', green, () =>
        executeChild(provisionReplica, { workflowId, args: [child] }),
      );
      provisioning = workflowId;
    }

    // 3. Version and compatibility: blue's configuration, accounts and schemas against green.
    run.enterPhase('compatibility', `${blue} → ${green}`);
    const [blueFacts, greenFacts] = await Promise.all(
      [blue, green].map((host) =>
        run.step('collect compatibility facts', host, () =>
          call(acts.collectCompatFacts, `configuration, accounts and schemas of ${host}`, { cluster, host }),
        ),
      ),
    );
    const versionProblem = targetVersionProblem(greenFacts.version, input.targetVersion);
    if (versionProblem) throw refused(run.runbook, cluster, [versionProblem]);
    const findings = checkCompatibility(blueFacts, greenFacts);
    run.record([
      {
        step: 'compatibility',
        start: new Date().toISOString(),
        status: 'done',
        ms: 0,
        detail: `${findings.length} finding(s), ${blocking(findings).length} blocking`,
      },
    ]);
    if (blocking(findings).length)
      throw refused(
        RUNBOOKS.upgrade,
        cluster,
        blocking(findings).map((f) => `${f.check} ${f.subject}: ${f.message}`),
      );
    const findingsText = findings.length ? `\n\n${findingLines(findings)}` : '';

    // 4. Soak: green replicates from blue under watch for soakSeconds, one check every
    // soakCheckSeconds, in a child run that continues as new when its history is full
    // (workflows/blueGreenSoak.ts): days of soak are one child here and one timeline entry.
    const soakEnd = new Date(Date.now() + input.soakSeconds * 1000).toISOString();
    run.enterPhase(
      'soak',
      `${green} replicates from ${blue} until ${soakEnd}; the checks so far are the current details of ${workflowInfo().workflowId}/soak${findingsText}`,
    );
    const { checks } = await run.step(
      'soak check',
      green,
      () =>
        waitInChild(blueGreenSoak, 'soak', {
          cluster,
          blue,
          green,
          untilIso: soakEnd,
          checkMs: input.soakCheckSeconds * 1000,
          maxLagSeconds: input.soakMaxLagSeconds,
        }),
      (r) => `${green} healthy in ${r.checks} check(s) over ${input.soakSeconds} s`,
    );

    // 5. The upgrade window, then 6. the approval when asked for.
    await waitForWindow(run, input.window, { what: 'the cutover' });
    if (input.requireApproval || spec.policy.requireApproval) {
      const timeout = input.approvalTimeoutSeconds ?? spec.policy.approvalTimeoutSeconds;
      const approval = await askApproval(run, gate, {
        question: `cut over ${blue} → **${green}**?`,
        host: green,
        timeoutSeconds: timeout,
        more: findingsText,
      });
      if (approval.decision !== 'approved')
        throw refused(run.runbook, cluster, [
          `cutover ${approval.decision === 'aborted' ? `aborted${approval.by ? ` by ${approval.by}` : ''}` : `not approved within ${timeout} s`}; ${green} stays a replica of ${blue}`,
        ]);
    }

    // 7. Cut over: a planned successover to green (child run; it takes the cluster lock).
    run.enterPhase('cutover', `${blue} → ${green}`);
    const cutover = await successover(run, input, green, 'cutover');

    // 8. Rollback window: blue replicates from green; `rollback` goes back, `finalize` keeps green.
    inRollbackWindow = true;
    const until = new Date(Date.now() + input.rollbackWindowSeconds * 1000).toISOString();
    run.enterPhase(
      'rollback-window',
      `${green} is the primary; ${blue} replicates from it. Signal \`rollback\` to go back to ${blue}, or \`finalize\` to keep ${green}; the window ends ${until}.`,
    );
    await run.step(
      'rollback window',
      undefined,
      () => condition(() => decision !== undefined, input.rollbackWindowSeconds * 1000),
      () => (decision ? `${decision.kind}${decision.by ? ` by ${decision.by}` : ''}` : 'ended'),
    );
    inRollbackWindow = false;
    let rollback: BlueGreenUpgradeResult['rollback'] = null;
    if (decision?.kind === 'rollback') {
      run.enterPhase('rollback', `${green} → ${blue}`);
      rollback = await successover(run, input, blue, 'rollback');
    }

    // 9. Done: the old primary stays a replica, flagged for decommissioning (or green, rolled back).
    const rolledBack = rollback !== null;
    const primary = rolledBack ? blue : green;
    run.enterPhase(
      'done',
      rolledBack
        ? `rolled back: ${blue} is the primary again; ${green} stays a replica`
        : `${green} is the primary; decommission ${blue}`,
    );
    return {
      ok: true,
      cluster,
      blue,
      green,
      outcome: rolledBack ? 'rolled-back' : decision ? 'finalized' : 'rollback-window-ended',
      ...(decision?.by ? { decidedBy: decision.by } : {}),
      blueVersion: blueFacts.version ?? null,
      greenVersion: greenFacts.version ?? null,
      provisioning,
      findings,
      soak: { seconds: input.soakSeconds, checks },
      cutover,
      rollback,
      primary,
      decommission: rolledBack ? [] : [blue],
      warnings,
      timeline: run.timeline,
    };
  });
}

/** A planned successover to `target` as a child run (the usual id, so the usual lock and refusals). */
async function successover(
  run: Runbook,
  input: BlueGreenUpgradeRequest,
  target: string,
  what: 'cutover' | 'rollback',
): Promise<{ workflowId: string; blackoutMs: number | null }> {
  const workflowId = workflowIdFor(RUNBOOKS.planned, input.cluster);
  const args: [PlannedSuccessoverInput] = [
    { cluster: input.cluster, target, waitTimeoutSeconds: input.waitTimeoutSeconds },
  ];
  const r = await run.step(
    what,
    target,
    () => executeChild(plannedSuccessover, { workflowId, args }),
    (r) => `${r.primary} → ${r.target} in ${r.blackoutMs} ms of write blackout`,
  );
  return { workflowId, blackoutMs: r.blackoutMs };
}
