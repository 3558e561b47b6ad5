// The blue/green upgrade's rollback-window signals, in a file of their own so the CLI can send
// them without loading the workflow.
import { defineSignal } from '@temporalio/workflow';

export interface RollbackRequest {
  by?: string;
  comment?: string;
}
/** During the rollback window: successover back to blue. */
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
/** During the rollback window: keep green, end the run now. */
export const finalizeSignal = defineSignal<[RollbackRequest]>('finalize');
