// When a looping workflow continues as new. Temporal fails a run at 51,200 history events (and
// warns from 10,240); a poll every few seconds adds ~10 events a round, so every loop that runs
// for hours hands its progress to a new run long before that. The server also suggests it by its
// own measure (events or bytes): whichever comes first.
import { ChildWorkflowFailure, executeChild, workflowInfo } from '@temporalio/workflow';

/** Well under the server's warning, so a history stays quick to replay on another worker. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 5000;

/** True once this run's history should end in a continue-as-new (tests pass a low threshold). */
export function historyFull(afterEvents: number = CONTINUE_AS_NEW_AFTER_EVENTS): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= afterEvents;
}

/**
 * A long wait run as a child (its id: the parent's and `suffix`), so the parent's history holds
 * one child however long it waits. Its failure is passed on as the child's own: a SoakFailed or a
 * CatchUpTimeout stays the parent's failure type, not a ChildWorkflowFailure around it.
 */
export async function waitInChild<A, R>(fn: (input: A) => Promise<R>, suffix: string, input: A): Promise<R> {
  try {
    const args: [A] = [input];
    return await executeChild(fn, { workflowId: `${workflowInfo().workflowId}/${suffix}`, args });
  } catch (e) {
    throw e instanceof ChildWorkflowFailure && e.cause ? e.cause : e;
  }
}
