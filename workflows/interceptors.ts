// Workflow interceptors bundled with every workflow (WORKFLOW_INTERCEPTOR_MODULES): they count
// runbook runs for the worker's Prometheus metrics and put the cluster and phase on workflow log
// lines, without a line in the runbooks themselves. The sandbox cannot reach prom-client, so the
// counts leave through a sink, which the SDK does not call while replaying: a run a worker picks
// up from history is not counted twice.
import {
  ApplicationFailure,
  CancelledFailure,
  proxySinks,
  TemporalFailure,
  workflowInfo,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { RUNBOOKS, type RunbookName } from '../domain/runbook';
import { FailureType } from './api';
import { blueGreenUpgrade } from './blueGreenUpgrade';
import { emergencyRecovery } from './emergencyRecovery';
import { plannedSuccessover } from './plannedSuccessover';
import { provisionReplica } from './provisionReplica';
import { rejoin } from './rejoin';
import { typedFailure } from './scaffold';
import { topology } from './topology';

export type RunOutcome = 'completed' | 'failed' | 'refused' | 'preempted' | 'cancelled';

export interface RunLabels {
  runbook: RunbookName;
  cluster: string;
}

/** What a completed run reported, read from its result. */
export interface RunDurations {
  blackoutMs?: number;
  recoveryMs?: number;
}

export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    started(run: RunLabels): void;
    ended(run: RunLabels, outcome: RunOutcome, durations: RunDurations): void;
  };
}

/**
 * The workflows counted as runs, by workflow type (the name a client starts them by: the
 * function's). A new runbook adds its line here.
 */
export const COUNTED_RUNBOOKS: Readonly<Record<string, RunbookName>> = {
  [plannedSuccessover.name]: RUNBOOKS.planned,
  [emergencyRecovery.name]: RUNBOOKS.emergency,
  [provisionReplica.name]: RUNBOOKS.provision,
  [blueGreenUpgrade.name]: RUNBOOKS.upgrade,
  [rejoin.name]: RUNBOOKS.rejoin,
  [topology.name]: RUNBOOKS.topology,
};

const { runMetrics } = proxySinks<RunMetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => {
  let cluster: string | undefined;
  return {
    inbound: [
      {
        async execute(input, next) {
          // Read from the raw input: a run that fails validation is still counted by cluster.
          cluster = clusterOf(input.args[0]);
          const { workflowType } = workflowInfo();
          const runbook = COUNTED_RUNBOOKS[workflowType];
          if (!runbook)
            return next(input).catch((e: unknown) => {
              throw typedFailure(e, `${workflowType}${cluster ? ` on ${cluster}` : ''}`);
            });
          const run = { runbook, cluster: cluster ?? 'unknown' };
          runMetrics.started(run);
          try {
            const result = await next(input);
            runMetrics.ended(run, 'completed', durationsOf(result));
            return result;
          } catch (thrown) {
            const e = typedFailure(thrown, `${runbook} on ${run.cluster}`);
            const outcome = outcomeOf(e);
            if (outcome) runMetrics.ended(run, outcome, {});
            throw e;
          }
        },
      },
    ],
    outbound: [
      {
        getLogAttributes(input, next) {
          const phase = workflowInfo()
            .typedSearchAttributes.getAll()
            .find((p) => p.key.name === 'RunbookPhase')?.value;
          return {
            ...next(input),
            ...(cluster ? { cluster } : {}),
            ...(phase !== undefined ? { phase } : {}),
          };
        },
      },
    ],
  };
};

function clusterOf(arg: unknown): string | undefined {
  const c = (arg as { cluster?: unknown } | undefined)?.cluster;
  // Operators type the cluster name; a label stays bounded even when the input is wrong.
  return typeof c === 'string' && c.length > 0 ? c.slice(0, 64) : undefined;
}

function durationsOf(result: unknown): RunDurations {
  const r = (result ?? {}) as { blackoutMs?: unknown; recoveryMs?: unknown };
  return {
    ...(typeof r.blackoutMs === 'number' ? { blackoutMs: r.blackoutMs } : {}),
    ...(typeof r.recoveryMs === 'number' ? { recoveryMs: r.recoveryMs } : {}),
  };
}

/**
 * How a thrown error ends the run. Only TemporalFailures fail a workflow (typedFailure made every
 * other error one); a continue-as-new has not ended it.
 */
function outcomeOf(e: unknown): RunOutcome | undefined {
  if (e instanceof ApplicationFailure && e.type === FailureType.Refused) return 'refused';
  // Stepped aside for an emergency recovery, the cluster as it was: no failure to page anyone for.
  if (e instanceof ApplicationFailure && e.type === FailureType.Preempted) return 'preempted';
  if (e instanceof CancelledFailure) return 'cancelled';
  if (e instanceof TemporalFailure) return 'failed';
  return undefined;
}
