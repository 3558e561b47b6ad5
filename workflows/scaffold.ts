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
  isCancellation,
  setHandler,
  sleep,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { parseInput, type RunbookName } from '../domain/runbook';
import { acts, call } from './activities';
import { FailureType, preemptUpdate, runSearchAttributes, type PreemptRequest } from './api';
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
  const scope = new CancellationScope();
  acceptPreemption(run, scope);
  try {
    return await scope.run(() => steps(run, input));
  } catch (e) {
    if (run.preemptedBy && isCancellation(e))
      throw ApplicationFailure.create({
        type: FailureType.Preempted,
        message: `${name} on ${input.cluster} was pre-empted by ${run.preemptedBy} before its point of no return: it stopped and left the cluster as it was`,
        nonRetryable: true,
      });
    throw typedFailure(e, `${name} on ${input.cluster}`);
  }
}

/**
 * The `preempt` update: an emergency recovery needs the cluster this run holds. Accepted only
 * while the runbook says it is preemptible (before its point of no return); the run's steps are
 * then cancelled, its compensation and lock release run as on any cancellation.
 */
function acceptPreemption(run: Runbook, scope: CancellationScope): void {
  setHandler(
    preemptUpdate,
    (req: PreemptRequest) => {
      run.preemptedBy = req.by;
      // The run may end in the task that accepts this update: then its caller reads "already
      // completed" instead of this answer, and preemptLockHolder reports the holder as ended.
      scope.cancel();
      return `${run.runbook} on ${run.cluster} steps aside for ${req.by}`;
    },
    {
      validator: (req: PreemptRequest) => {
        if (run.preemptedBy) throw new Error(`already pre-empted by ${run.preemptedBy}`);
        if (!run.preemptible)
          throw new Error(
            `${run.runbook} on ${run.cluster} cannot step aside for ${req.by}: it is past its point of no return or never steps aside; wait for it`,
          );
      },
    },
  );
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

/**
 * Step "lock": one runbook per cluster holds the lock for the span of `body`. Taken by another
 * run, it is a refusal at once, or after `waitSeconds` of waiting for that run to end (a run
 * started by another workflow that may still hold the lock, e.g. the fence watch's rejoin).
 */
export async function withClusterLock<R>(
  run: Runbook,
  body: () => Promise<R>,
  { waitSeconds = 0 }: { waitSeconds?: number } = {},
): Promise<R> {
  run.enterPhase('lock');
  if (waitSeconds > 0) await takeLockWaiting(run, waitSeconds, { preempt: false });
  else await takeLock(run);
  try {
    return await body();
  } finally {
    await releaseClusterLock(run);
  }
}

export interface LockMeanwhile {
  /** Settles when the lock is taken: with the holder the run waited for, if it had to. */
  held: Promise<{ waitedFor?: string }>;
  release: () => Promise<void>;
}

/**
 * The lock taken while the first steps only read (emergency recovery confirms the failure
 * meanwhile): `held` settles when it is taken; `release` frees it if it was. With `preempt`, a
 * runbook holding the lock is asked to step aside (the `preempt` update) and then waited for, at
 * most `waitSeconds`: an emergency is never refused because a planned run holds the cluster.
 */
export function lockMeanwhile(run: Runbook, preempt?: { waitSeconds: number }): LockMeanwhile {
  const held = preempt
    ? takeLockWaiting(run, preempt.waitSeconds, { preempt: true })
    : takeLock(run).then(() => ({}));
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

/** The lock, waiting up to `waitSeconds` for its holder to end; with `preempt`, asking it to step aside. */
async function takeLockWaiting(
  run: Runbook,
  waitSeconds: number,
  { preempt }: { preempt: boolean },
): Promise<{ waitedFor?: string }> {
  const { cluster } = run;
  const deadline = Date.now() + waitSeconds * 1000;
  let asked: string | undefined;
  return run.step(
    'lock',
    undefined,
    async () => {
      for (let delayMs = 200; ; delayMs = Math.min(delayMs * 2, 2000)) {
        try {
          await call(acts.acquireClusterLock, `lock cluster ${cluster}`, { cluster, runbook: run.runbook });
          return asked ? { waitedFor: asked } : {};
        } catch (e) {
          if (failureType(e) !== FailureType.Refused) throw e;
          if (Date.now() >= deadline)
            throw refused(run.runbook, cluster, [
              `${failureMessage(e)}; it did not end within ${waitSeconds} s`,
            ]);
          asked ??= preempt
            ? await call(acts.preemptLockHolder, `ask the holder of ${cluster}'s lock to step aside`, {
                cluster,
                by: workflowInfo().workflowId,
                reason: `${run.runbook} needs ${cluster}`,
              })
            : failureMessage(e);
          run.showDetails(`waiting for the lock: ${asked}`);
          await sleep(delayMs);
        }
      }
    },
    (r) => (r.waitedFor ? `taken after ${r.waitedFor}` : 'taken'),
  );
}

export async function releaseClusterLock(run: Runbook): Promise<void> {
  await CancellationScope.nonCancellable(() =>
    call(acts.releaseClusterLock, `unlock cluster ${run.cluster}`, { cluster: run.cluster }),
  );
}
