// The activity proxy runbooks share, and `call`, which gives every call a summary the UI shows.
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * Ordinary steps: short, retried with backoff; a non-retryable failure stops at once. The
 * start-to-close bound is also how long a crashed worker's attempt stalls the run, so it is
 * short; bounded waits get their own (see `boundedWait`).
 */
export const defaultOptions: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '200 ms',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 10,
  },
};

/**
 * The critical section heartbeats every step, so a worker that dies inside it is noticed in
 * seconds and the (idempotent) activity resumes on another worker.
 */
export const criticalOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '5 seconds',
  retry: {
    initialInterval: '200 ms',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 5,
  },
};

export const acts = proxyActivities<Activities>(defaultOptions);

/**
 * Worker-side reads that need no other host (the inventory, a fleet's plan): run as local
 * activities, they skip the task-queue round trip that costs 50-500 ms on a busy worker. Only for
 * short calls whose result the task's next commands need: while a local activity runs, its
 * workflow task sends none of the commands scheduled meanwhile (emergency recovery's last-recovery
 * read is an ordinary, eager activity for that reason).
 */
export const localOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: {
    initialInterval: '100 ms',
    backoffCoefficient: 2,
    maximumInterval: '1 second',
    maximumAttempts: 5,
  },
};
export const localActs = proxyLocalActivities<Activities>(localOptions);

type OneArg = (arg: never) => Promise<unknown>;

/** Calls an activity with a summary (shown in the UI's event history and timeline). */
export function call<F extends OneArg>(
  fn: F,
  summary: string,
  arg: Parameters<F>[0],
  options: ActivityOptions | LocalActivityOptions = defaultOptions,
): Promise<Awaited<ReturnType<F>>> {
  const proxied = fn as unknown as {
    executeWithOptions(
      o: ActivityOptions | LocalActivityOptions,
      args: [Parameters<F>[0]],
    ): Promise<Awaited<ReturnType<F>>>;
  };
  return proxied.executeWithOptions({ ...options, summary }, [arg]);
}

/** Options for an activity that waits server-side up to `seconds`. */
export const boundedWait = (seconds: number): ActivityOptions => ({
  ...defaultOptions,
  startToCloseTimeout: `${Math.ceil(seconds) + 15} seconds`,
});

/** `call` for a local activity (`localActs.x`). */
export const callLocal = <F extends OneArg>(fn: F, summary: string, arg: Parameters<F>[0]) =>
  call(fn, summary, arg, localOptions);
