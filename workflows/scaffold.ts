// The scaffold every runbook stands on, so a runbook file holds only its numbered steps:
// - the input validated once (a BadInput failure names the field);
// - the Cluster and Runbook search attributes, the progress query and the timeline (Runbook);
// - the cluster lock taken as a visible step and released whatever happens, cancellation included;
// - failures of known types only. A plain Error thrown by workflow code (a parse error in a
//   decision, a bug) would fail the workflow *task* again and again: the run would hang, holding the
//   lock, instead of failing. It becomes a non-retryable WorkflowError that says where it came from.
import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  TemporalFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { parseInput, type RunbookName } from '../domain/runbook';
import { acts, call } from './activities';
import { FailureType, runSearchAttributes } from './api';
import { failureMessage, failureType, refused, Runbook } from './runbook';

/** Runs a runbook's steps on the scaffold. The steps get the Runbook and the validated input. */
export async function runbook<S extends z.ZodType<{ cluster: string }>, R>(
  name: RunbookName,
  schema: S,
  raw: unknown,
  steps: (run: Runbook, input: z.output<S>) => Promise<R>,
): Promise<R> {
  const input = validated(name, schema, raw);
  const run = new Runbook(name, input.cluster);
  upsertSearchAttributes(runSearchAttributes(input.cluster, name));
  try {
    return await steps(run, input);
  } catch (e) {
    throw typedFailure(e, `${name} on ${input.cluster}`);
  }
}

export function validated<S extends z.ZodType>(name: string, schema: S, raw: unknown): z.output<S> {
  try {
    return parseInput(schema, name, raw);
  } catch (e) {
    throw ApplicationFailure.create({
      type: FailureType.BadInput,
      message: e instanceof Error ? e.message : String(e),
      nonRetryable: true,
    });
  }
}

/**
 * Temporal's own failures (an activity's, a child's, a cancellation, an ApplicationFailure) and a
 * continue-as-new pass as they are; anything else was thrown by workflow code and fails the run,
 * never the task. The worker's interceptor applies it to every workflow, runbook or not.
 */
export function typedFailure(e: unknown, where: string): unknown {
  if (e instanceof TemporalFailure || e instanceof ContinueAsNew) return e;
  const message = e instanceof Error ? e.message : String(e);
  return ApplicationFailure.create({
    type: FailureType.WorkflowError,
    message: `${where} stopped on an error in its own decisions: ${message}`,
    nonRetryable: true,
  });
}

/** Step "lock": one runbook per cluster holds the lock for the span of `body`. */
export async function withClusterLock<R>(run: Runbook, body: () => Promise<R>): Promise<R> {
  run.enterPhase('lock');
  await takeLock(run);
  try {
    return await body();
  } finally {
    await releaseClusterLock(run);
  }
}

/**
 * The lock taken while the first steps only read (emergency recovery confirms the failure
 * meanwhile): `held` settles when it is taken; `release` frees it if it was.
 */
export function lockMeanwhile(run: Runbook): { held: Promise<void>; release: () => Promise<void> } {
  const held = takeLock(run);
  held.catch(() => undefined); // awaited by the steps that need it; not an unhandled rejection
  return {
    held,
    release: async () => {
      if (
        await held.then(
          () => true,
          () => false,
        )
      )
        await releaseClusterLock(run);
    },
  };
}

/**
 * The lock taken by another run is a refusal of this one (its type, its hooks, its metrics), not
 * a failure: nothing was changed.
 */
async function takeLock(run: Runbook): Promise<void> {
  try {
    await run.step('lock', undefined, () =>
      call(acts.acquireClusterLock, `lock cluster ${run.cluster}`, {
        cluster: run.cluster,
        runbook: run.runbook,
      }),
    );
  } catch (e) {
    if (failureType(e) === FailureType.Refused) throw refused(run.runbook, run.cluster, [failureMessage(e)]);
    throw e;
  }
}

export async function releaseClusterLock(run: Runbook): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    call(acts.releaseClusterLock, `unlock cluster ${run.cluster}`, { cluster: run.cluster }),
  );
}
