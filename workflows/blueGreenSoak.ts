// The blue/green soak (step 4) as a child run: green replicates from blue under watch until the
// soak ends, one check every soakCheckSeconds. A soak of days would outgrow a history (and the
// parent's timeline, one entry per check), so this run continues as new whenever its history is
// full (./historyBound), carrying the count of checks; the parent records one timeline entry.
import {
  ApplicationFailure,
  continueAsNew,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { soakProblems } from '../domain/upgrade/blueGreen';
import { acts, call } from './activities';
import { FailureType, runSearchAttributes, SUPPORT_WORKFLOWS } from './api';
import { historyFull } from './historyBound';

export interface BlueGreenSoakInput {
  cluster: string;
  blue: string;
  green: string;
  /** Absolute, so a continued run keeps the first run's end. */
  untilIso: string;
  checkMs: number;
  maxLagSeconds: number;
  /** Default CONTINUE_AS_NEW_AFTER_EVENTS. */
  continueAsNewAfterEvents?: number;
  /** Carried across continue-as-new. */
  carried?: { checks: number; runs: number };
}

export interface BlueGreenSoakResult {
  /** Checks made, all runs together. */
  checks: number;
  /** Runs of this workflow (the first is 1). */
  runs: number;
}

export async function blueGreenSoak(input: BlueGreenSoakInput): Promise<BlueGreenSoakResult> {
  const { cluster, blue, green } = input;
  upsertSearchAttributes(runSearchAttributes(cluster, SUPPORT_WORKFLOWS.blueGreenSoak));
  const runs = (input.carried?.runs ?? 0) + 1;
  let checks = input.carried?.checks ?? 0;
  const end = Date.parse(input.untilIso);
  for (;;) {
    const seen = await call(acts.inspectCluster, `check ${green} during the soak`, {
      cluster,
      traffic: false,
    });
    checks++;
    const problems = soakProblems(seen.topology, blue, green, input.maxLagSeconds);
    if (problems.length)
      throw ApplicationFailure.create({
        type: FailureType.SoakFailed,
        message: `blue/green upgrade of ${cluster} stopped during the soak, nothing was cut over (${blue} is still the primary): ${problems.join('; ')}`,
        nonRetryable: true,
        details: [{ checks }],
      });
    const left = end - Date.now();
    if (left <= 0) return { checks, runs };
    setCurrentDetails(
      `**soak**: ${green} healthy after ${checks} check(s) in ${runs} run(s); cutover not before ${input.untilIso}`,
    );
    await sleep(Math.min(left, input.checkMs));
    // After a check, never before: a run always makes progress, whatever the threshold.
    if (historyFull(input.continueAsNewAfterEvents))
      return continueAsNew<typeof blueGreenSoak>({ ...input, carried: { checks, runs } });
  }
}
