// Provisioning's step 6 as a child run: poll the new replica until it has caught up with the
// primary. A catch-up may take hours at a poll every 2 s (~10 events a poll), so this run
// continues as new whenever its history is full (./historyBound), carrying the polls, the
// failures in a row, the primary and the last progress; the parent's history holds one child.
import {
  ApplicationFailure,
  continueAsNew,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Cluster } from '../domain/inventory';
import { catchUpState, formatCatchUp, type CatchUpProgress } from '../domain/provision';
import { findPrimary } from '../domain/topology';
import { acts, call, defaultOptions } from './activities';
import { FailureType, runSearchAttributes, SUPPORT_WORKFLOWS } from './api';
import { historyFull } from './historyBound';
import { failureMessage } from './runbook';

export interface ProvisionCatchUpInput {
  cluster: string;
  host: string;
  /** The primary it replicates from; a poll that fails looks for it again. */
  primary: string;
  /** The lag at which it counts as caught up. */
  maxLagSeconds: number;
  /** Absolute, so a continued run keeps the first run's deadline. */
  deadlineIso: string;
  /** For the timeout's message: the input's catchUpTimeoutSeconds. */
  timeoutSeconds: number;
  pollMs: number;
  /** Default CONTINUE_AS_NEW_AFTER_EVENTS. */
  continueAsNewAfterEvents?: number;
  /** Carried across continue-as-new. */
  carried?: CatchUpCarried;
}

export interface CatchUpCarried {
  polls: number;
  /** Failed polls in a row: three in a row fail the catch-up, however many runs they span. */
  failures: number;
  /** Runs of this workflow so far (the first is 1). */
  runs: number;
  last?: CatchUpProgress;
}

export interface ProvisionCatchUpResult {
  progress: CatchUpProgress;
  primary: string;
  polls: number;
  runs: number;
}

/** Failed progress polls in a row (after each one's own retries) before the catch-up fails. */
const MAX_POLL_FAILURES = 3;

/** A poll: few retries, so a primary that died meanwhile is looked for again soon. */
const pollOptions = { ...defaultOptions, retry: { ...defaultOptions.retry, maximumAttempts: 3 } };

/**
 * Polls until catchUpState says caught up or failed, or the deadline passes. A poll that fails
 * (after its retries) looks for the primary again: an emergency recovery may have moved it, and
 * repointed the new replica with the others.
 */
export async function provisionCatchUp(input: ProvisionCatchUpInput): Promise<ProvisionCatchUpResult> {
  const { cluster, host } = input;
  upsertSearchAttributes(runSearchAttributes(cluster, SUPPORT_WORKFLOWS.provisionCatchUp));
  const carried = input.carried ?? { polls: 0, failures: 0, runs: 0 };
  const runs = carried.runs + 1;
  let { polls, failures, last } = carried;
  let primary = input.primary;
  let spec: Cluster | undefined;
  const deadline = Date.parse(input.deadlineIso);
  const show = (what: string) =>
    setCurrentDetails(`**catch-up** of ${host}: ${what}\n\n${polls} poll(s) in ${runs} run(s)`);
  for (;;) {
    polls++;
    let p: CatchUpProgress | undefined;
    try {
      p = await call(
        acts.replicationProgress,
        `progress of ${host}`,
        { cluster, host, primary },
        pollOptions,
      );
      failures = 0;
    } catch (e) {
      if (++failures >= MAX_POLL_FAILURES) throw e;
      spec ??= await call(acts.loadClusterSpec, `load the spec of ${cluster}`, { cluster });
      const seen = await call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false });
      const found = findPrimary(spec, seen.topology);
      if ('primary' in found) primary = found.primary;
      show(`progress unreadable (${failureMessage(e)}); the primary is ${primary}`);
    }
    if (p) {
      last = p;
      const state = catchUpState(p, { host, primary, maxLagSeconds: input.maxLagSeconds });
      if (state.state === 'caught-up') return { progress: p, primary, polls, runs };
      if (state.state === 'failed')
        throw ApplicationFailure.create({
          type: FailureType.ReplicationFailed,
          message: state.reason,
          nonRetryable: true,
        });
      show(`${state.detail} (caught up at lag ≤ ${input.maxLagSeconds} s)`);
    }
    if (Date.now() >= deadline)
      throw ApplicationFailure.create({
        type: FailureType.CatchUpTimeout,
        message: `${host} did not catch up with ${primary} within ${input.timeoutSeconds} s (${last ? formatCatchUp(last, primary) : 'its progress unreadable'}): it keeps replicating; raise catchUpTimeoutSeconds or maxLagSeconds, or find what slows it`,
        nonRetryable: true,
      });
    await sleep(input.pollMs);
    // After a poll, never before: a run always makes progress, whatever the threshold.
    if (historyFull(input.continueAsNewAfterEvents))
      return continueAsNew<typeof provisionCatchUp>({
        ...input,
        primary,
        carried: { polls, failures, runs, ...(last ? { last } : {}) },
      });
  }
}
