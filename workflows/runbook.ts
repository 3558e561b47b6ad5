// What every runbook shows in the Temporal UI: a `progress` query with the timeline so far, the
// RunbookPhase search attribute per phase, and current details naming the step under way.
import {
  setHandler,
  setCurrentDetails,
  upsertSearchAttributes,
  ApplicationFailure,
} from '@temporalio/workflow';
import type { RunbookName, TimelineStep } from '../domain/runbook';
import { FailureType, phaseSearchAttribute, progressQuery, type WindowProgress } from './api';

// Defined in ./api with the rest of the contract; re-exported for the tests that read it here.
export { progressQuery, type Progress, type WindowProgress } from './api';

export class Runbook {
  readonly timeline: TimelineStep[] = [];
  private phase = 'starting';
  private phaseDetails = '';
  /** Set by waitForWindow; shown by the progress query. */
  window: WindowProgress | undefined;
  /**
   * Whether an emergency recovery may pre-empt this run now (the `preempt` update): a runbook
   * says so while cancelling it leaves the cluster as it was, and stops saying so at its point
   * of no return. Runbooks that never say so are waited for.
   */
  preemptible = false;
  /** Who pre-empted the run, once it was. */
  preemptedBy: string | undefined;

  constructor(
    readonly runbook: RunbookName,
    readonly cluster: string,
  ) {
    setHandler(progressQuery, () => ({
      runbook,
      cluster,
      phase: this.phase,
      timeline: this.timeline,
      ...(this.window ? { window: this.window } : {}),
    }));
  }

  /** Marks a phase: searchable (RunbookPhase) and shown as the run's current details. */
  enterPhase(phase: string, details?: string): void {
    this.phase = phase;
    this.phaseDetails = details ? `\n\n${details}` : '';
    upsertSearchAttributes(phaseSearchAttribute(phase));
    setCurrentDetails(`**${phase}**${this.phaseDetails}`);
  }

  /**
   * New details for the phase under way (a poll's figures), with no search attribute update: a
   * loop may call it every few seconds without adding events to the history.
   */
  showDetails(details: string): void {
    this.phaseDetails = details ? `\n\n${details}` : '';
    setCurrentDetails(`**${this.phase}**${this.phaseDetails}`);
  }

  /** Runs one step and records it: start, end, duration, host, and how it ended. */
  async step<T>(
    step: string,
    host: string | undefined,
    fn: () => Promise<T>,
    detail?: (r: T) => string,
  ): Promise<T> {
    const entry: TimelineStep = { step, host, start: new Date().toISOString(), status: 'running' };
    this.timeline.push(entry);
    // The phase's details stay visible under the step (e.g. why this candidate, while approving).
    setCurrentDetails(`**${this.phase}**: ${step}${host ? ` on ${host}` : ''}${this.phaseDetails}`);
    try {
      const r = await fn();
      this.finish(entry, 'done', detail?.(r));
      return r;
    } catch (e) {
      this.finish(entry, 'failed', failureMessage(e));
      throw e;
    }
  }

  /** Records steps an activity ran itself (with real clock times), e.g. the critical section. */
  record(steps: TimelineStep[]): void {
    this.timeline.push(...steps);
  }

  private finish(entry: TimelineStep, status: TimelineStep['status'], detail?: string): void {
    entry.end = new Date().toISOString();
    entry.ms = Date.parse(entry.end) - Date.parse(entry.start);
    entry.status = status;
    if (detail) entry.detail = detail;
  }
}

export function failureMessage(e: unknown): string {
  // ActivityFailure wraps the ApplicationFailure that carries the classified message.
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return cause.message;
  return e instanceof Error ? e.message : String(e);
}

export function failureType(e: unknown): string | undefined {
  const cause = (e as { cause?: unknown }).cause ?? e;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** A refusal: the cluster was left as it was; the reasons say why and what to do. */
export function refused(runbook: string, cluster: string, reasons: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.Refused,
    message: `${runbook} on ${cluster} refused, nothing was changed: ${reasons.join('; ')}`,
    nonRetryable: true,
    details: [{ reasons }],
  });
}
