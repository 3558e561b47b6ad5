// Which branch of its workflow a recorded history took, read from the history alone: how the run
// closed (completed, failed with a type, continued as new, terminated, still open) and, for a
// completed run, what its result says (an outcome, a method, a dry run). The replay suite names
// the branches it must hold in these terms (REQUIRED_BRANCHES in histories.ts).
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';

type Event = NonNullable<History['events']>[number];

/** The activity types a history scheduled, for the branches only an activity tells apart. */
function activityTypes(events: Event[]): Set<string> {
  return new Set(
    events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? '').filter(Boolean),
  );
}

function completedLabel(workflowType: string, result: Record<string, unknown>, events: Event[]): string {
  if (result.dryRun === true) return 'dry-run';
  const base =
    typeof result.outcome === 'string'
      ? result.outcome
      : typeof result.method === 'string'
        ? result.method
        : typeof result.ended === 'string'
          ? result.ended
          : 'completed';
  if (workflowType === 'emergencyRecovery' && activityTypes(events).has('preemptLockHolder'))
    return `${base}-preempting`;
  if (result.pair === true) return `${base === 'completed' ? 'done' : base}-pair`;
  return base;
}

/** The branch of one history, e.g. "completed", "recovered", "failed-Compensated", "continued-as-new". */
export function branchOf(workflowType: string, history: History): string {
  const events = history.events ?? [];
  const last = events[events.length - 1];
  if (last?.workflowExecutionCompletedEventAttributes) {
    const payload = last.workflowExecutionCompletedEventAttributes.result?.payloads?.[0];
    const result = payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : undefined;
    return result && typeof result === 'object'
      ? completedLabel(workflowType, result as Record<string, unknown>, events)
      : 'completed';
  }
  if (last?.workflowExecutionFailedEventAttributes) {
    // The run's failure, or the first typed one it wraps (an activity's, a child's).
    let f = last.workflowExecutionFailedEventAttributes.failure;
    while (f && !f.applicationFailureInfo?.type && f.cause) f = f.cause;
    return `failed-${f?.applicationFailureInfo?.type || 'untyped'}`;
  }
  if (last?.workflowExecutionContinuedAsNewEventAttributes) return 'continued-as-new';
  if (last?.workflowExecutionTerminatedEventAttributes) return 'terminated';
  if (last?.workflowExecutionCanceledEventAttributes) return 'canceled';
  if (last?.workflowExecutionTimedOutEventAttributes) return 'timed-out';
  return 'open';
}
