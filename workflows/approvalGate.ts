// Human approval, in emergency recovery (policy.requireApproval) and before a blue/green cutover:
// a human approves or aborts through the `approve` / `abort` updates (the UI and the CLI send
// them); silence past the approval timeout aborts, because acting without the asked-for consent is
// the worse error.
import { condition, setHandler } from '@temporalio/workflow';
import { abortUpdate, approveUpdate, type ApprovalRequest } from './api';
import type { Runbook } from './runbook';

export interface Approval {
  decision: 'approved' | 'aborted' | 'timed-out';
  by?: string;
  comment?: string;
}

/** Installs the handlers at once, so an early update is rejected with the reason, not lost. */
export class ApprovalGate {
  private awaiting = false;
  private answer: Approval | undefined;

  constructor() {
    const validator = (_req: ApprovalRequest) => {
      if (!this.awaiting)
        throw new Error(
          this.answer
            ? `already ${this.answer.decision}${this.answer.by ? ` by ${this.answer.by}` : ''}`
            : 'this run is not waiting for an approval',
        );
    };
    const decide = (decision: 'approved' | 'aborted') => (req: ApprovalRequest) => {
      this.answer = { decision, ...(req ?? {}) };
      this.awaiting = false;
      return `${decision}${req?.by ? ` by ${req.by}` : ''}`;
    };
    setHandler(approveUpdate, decide('approved'), { validator });
    setHandler(abortUpdate, decide('aborted'), { validator });
  }

  async wait(timeoutSeconds: number): Promise<Approval> {
    this.awaiting = true;
    const answered = await condition(() => this.answer !== undefined, timeoutSeconds * 1000);
    this.awaiting = false;
    return answered && this.answer ? this.answer : (this.answer = { decision: 'timed-out' });
  }
}

/**
 * The approval step of a runbook: the question in the UI's current details (with how to answer),
 * the answer in the timeline. The caller says what a refusal means for its runbook.
 */
export async function askApproval(
  run: Runbook,
  gate: ApprovalGate,
  {
    question,
    host,
    timeoutSeconds,
    more = '',
  }: { question: string; host: string; timeoutSeconds: number; more?: string },
): Promise<Approval> {
  run.enterPhase('approval', `${question} Send the \`approve\` or \`abort\` update.${more}`);
  return run.step(
    'approval',
    host,
    () => gate.wait(timeoutSeconds),
    (a) => `${a.decision}${a.by ? ` by ${a.by}` : ''}${a.comment ? `: ${a.comment}` : ''}`,
  );
}
