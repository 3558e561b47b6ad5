// The task queue the workers poll and the CLI, schedules and triggers start runs on. Its own
// module: a CLI command that only starts a run must not load the worker (and with it the SDK's
// native core, webpack and every activity's driver) to learn one string.
export const DEFAULT_TASK_QUEUE = 'successover';
