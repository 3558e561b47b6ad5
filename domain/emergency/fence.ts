// What fencing the old primary achieved, step by step (activities/emergency.ts fences; the
// recovery and its fence watch report it): shown in the result and the UI.

export interface FenceReport {
  host: string;
  readOnly: FenceOutcome;
  traffic: FenceOutcome;
  command: FenceOutcome;
  /** read_only written to the host's optionFile, so a restart keeps it (absent: nothing to say). */
  optionFile?: FenceOutcome;
  /** At least one fence held: the host cannot take writes through successover's paths. */
  fenced: boolean;
}

/** One fence (or hook): done, failed or skipped, and what happened. */
export interface FenceOutcome {
  status: 'done' | 'failed' | 'skipped';
  detail: string;
}
