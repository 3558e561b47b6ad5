// The process's Prometheus metrics (prom-client): one registry that the worker and the webhook
// receiver both serve on /metrics, so whichever of them runs in a process exposes the same names.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

/** started, then one of the ended outcomes; runs still under way are started minus ended. */
export const runsStarted = new Counter({
  name: 'successover_runs_started_total',
  help: 'Runbook runs started on this worker, by runbook and cluster.',
  labelNames: ['runbook', 'cluster'] as const,
  registers: [registry],
});

/** outcome: completed, failed, refused (before any change), preempted (stepped aside for a recovery), cancelled. */
export const runsEnded = new Counter({
  name: 'successover_runs_ended_total',
  help: 'Runbook runs that ended on this worker, by runbook, cluster and outcome.',
  labelNames: ['runbook', 'cluster', 'outcome'] as const,
  registers: [registry],
});

// Milliseconds, as the runs report them (timeline, bench); buckets around the targets: a planned
// blackout well under a second, an emergency recovery in a few seconds.
export const blackoutMs = new Histogram({
  name: 'successover_blackout_milliseconds',
  help: 'Write blackout of completed planned successovers, in ms.',
  labelNames: ['cluster'] as const,
  buckets: [50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 5000, 10000],
  registers: [registry],
});

export const recoveryMs = new Histogram({
  name: 'successover_recovery_milliseconds',
  help: 'Trigger to new primary of completed emergency recoveries, in ms.',
  labelNames: ['cluster'] as const,
  buckets: [500, 1000, 1500, 2000, 2500, 3000, 5000, 10000, 20000, 30000, 60000, 120000],
  registers: [registry],
});

let processMetrics = false;
/** Node process metrics (CPU, memory, event loop lag) once per process, on first serve. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}
