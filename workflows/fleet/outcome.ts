// A child's end as one compact outcome. The failure budget counts failures only: a refusal left
// the cluster as it was (a DBA reads it as "not now, and here is why"), a failure may not have
// (Compensated means a write blackout happened and was undone; Unfinished means a half-switched
// cluster; InvariantViolated, a cluster out of shape). So:
// - refused: Refused (a preflight, the lock, the plan), Preempted (stepped aside for an emergency
//   recovery before its point of no return), and a child id already running (another run holds
//   the cluster: nothing was started);
// - failed: every other failure type, a cancelled, terminated or timed-out child, and anything
//   unknown. Unknown is failure: the budget errs on the side of stopping.
import {
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { clip, type FleetOutcome } from '../../domain/fleet/input';
import type { BlueGreenUpgradeResult, PlannedSuccessoverResult } from '../../domain/runbook';
import { FailureType } from '../api';

/** Failure types that changed nothing: a refusal, not a failure. */
const SAFE: ReadonlySet<string> = new Set([FailureType.Refused, FailureType.Preempted]);

/** Whether a child that ended with this failure type counts as refused (else failed). */
export const refusedType = (type: string | undefined): boolean => type !== undefined && SAFE.has(type);

/** The outcome of a child that threw (or could not start). */
export function failedOutcome(cluster: string, e: unknown): FleetOutcome {
  if (e instanceof WorkflowExecutionAlreadyStartedError)
    return {
      cluster,
      status: 'refused',
      type: FailureType.Refused,
      detail: clip(
        `${e.workflowId} is already running (started by someone else): one runbook per cluster at a time; nothing was started`,
      ),
    };
  const cause = e instanceof ChildWorkflowFailure ? e.cause : e;
  let type: string | undefined;
  if (cause instanceof ApplicationFailure) type = cause.type ?? undefined;
  else if (cause instanceof CancelledFailure) type = 'Cancelled';
  else if (cause instanceof TerminatedFailure) type = 'Terminated';
  else if (cause instanceof TimeoutFailure) type = 'TimedOut';
  const message = cause instanceof Error ? cause.message : String(cause);
  return {
    cluster,
    status: refusedType(type) ? 'refused' : 'failed',
    ...(type ? { type } : {}),
    detail: clip(message || 'failed without a message'),
  };
}

export function plannedOutcome(r: PlannedSuccessoverResult): FleetOutcome {
  const move = `${r.primary} ${r.pair ? '<->' : '→'} ${r.target}`;
  return {
    cluster: r.cluster,
    status: 'done',
    blackoutMs: r.blackoutMs,
    detail: clip(
      r.dryRun ? `dry run: ${move}, nothing changed` : `${move}, ${r.blackoutMs} ms of write blackout`,
    ),
  };
}

export function upgradeOutcome(r: BlueGreenUpgradeResult): FleetOutcome {
  return {
    cluster: r.cluster,
    status: 'done',
    blackoutMs: r.cutover.blackoutMs,
    detail: clip(
      `${r.blue} → ${r.green}: ${r.outcome}, cutover ${r.cutover.blackoutMs} ms of write blackout; primary ${r.primary}`,
    ),
  };
}
