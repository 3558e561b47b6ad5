// Server settings every Temporal that runs successover should have: the dev server (CLI, lab,
// tests) and the PostgreSQL-backed server get them from here; a team's own server from its
// dynamic config file (README, "Temporal settings").

/**
 * Eager activity execution: an activity a workflow task schedules on the workflow's own task
 * queue comes back in the answer to that task's completion, to the same worker, instead of going
 * through matching to a poller. Each runbook step is such an activity, so this takes one matching
 * hop off every step: measured on the dev server with the fake cluster, a planned successover's
 * run went from 843 to 443 ms (p50 of 22), and on the lab from 319 to 279 ms. Off by default in
 * server 1.29 (the version setup builds); Temporal turned it on by default upstream since
 * (temporalio/temporal#10651), after running it in its cloud. A step still retries elsewhere if
 * this worker dies: its start-to-close timeout bounds it, as for any step a worker has taken.
 */
export const SERVER_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number | string>> = {
  'system.enableActivityEagerExecution': true,
};

/** `temporal server start-dev` arguments that set SERVER_DYNAMIC_CONFIG. */
export function devServerDynamicConfigArgs(): string[] {
  return Object.entries(SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

/** SERVER_DYNAMIC_CONFIG as a server's dynamic config file holds it (every namespace). */
export function dynamicConfigEntries(): Record<string, { value: unknown; constraints: object }[]> {
  return Object.fromEntries(
    Object.entries(SERVER_DYNAMIC_CONFIG).map(([key, value]) => [key, [{ value, constraints: {} }]]),
  );
}
