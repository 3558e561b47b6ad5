// Starting a plan's runs, and telling a new run from a join. startEmergencyRecovery says
// "started" when no run was running when it looked, so alerts that arrive together all say so for
// the one run they share (50 identical alerts gave 19 "started" for 2 runs). The receiver
// remembers the run ids it has answered for: only the first answer about a run can be its start.
// Another trigger (detector, CLI, a second receiver) racing this one can still make both say
// "started".
import type { Logger } from 'pino';
import { InputError, type EmergencyRecoveryInput } from '../domain/runbook';
import type { StartedRecovery } from '../triggers/start';
import type { Plan } from './alerts';

export type StartRecovery = (input: EmergencyRecoveryInput) => Promise<StartedRecovery>;

/** Run ids kept per workflow (one per cluster): its latest runs, enough to recognise a late answer. */
const KEPT = 16;

export class RunsAnswered {
  private readonly byWorkflow = new Map<string, string[]>();

  /** True when no earlier answer of this receiver was about this run. */
  first(workflowId: string, runId: string): boolean {
    const runs = this.byWorkflow.get(workflowId) ?? [];
    if (runs.includes(runId)) return false;
    runs.push(runId);
    if (runs.length > KEPT) runs.shift();
    this.byWorkflow.set(workflowId, runs);
    return true;
  }
}

export interface RunAnswer extends StartedRecovery {
  cluster: string;
  /** The alert joined a run already under way: nothing new was started. */
  joined: boolean;
}

export interface StartsAnswer {
  status: number;
  body: Record<string, unknown>;
  /** For the metrics: "started" when a run was started, "joined" when every run was joined. */
  outcome?: 'started' | 'joined';
}

/** Starts the plan's runs together and says how it went: 202, or 503 (422) when a start failed. */
export async function startRuns(
  plan: Plan,
  start: StartRecovery,
  answered: RunsAnswered,
  log: Logger,
  system: string,
): Promise<StartsAnswer> {
  const settled = await Promise.allSettled(plan.starts.map((s) => start(s.input)));
  const runs: RunAnswer[] = [];
  const failures: string[] = [];
  let status = 503;
  settled.forEach((r, i) => {
    const { cluster, alerts } = plan.starts[i];
    if (r.status === 'fulfilled') {
      // Every answer is remembered, joins too: a start that says "started" after another
      // answer about the same run was given is a join.
      const first = answered.first(r.value.workflowId, r.value.runId);
      const started = r.value.started && first;
      runs.push({ cluster, ...r.value, started, joined: !started });
      log.info(
        { system, cluster, alerts, ...r.value, started },
        started ? 'emergency recovery started' : 'emergency recovery already running: joined',
      );
      return;
    }
    if (r.reason instanceof InputError) status = 422;
    failures.push(
      `cannot start the emergency recovery of ${cluster}: ${String(r.reason?.message ?? r.reason)}`,
    );
    log.error({ system, cluster, err: r.reason }, 'emergency recovery not started');
  });
  // Senders retry on 5xx; a retry joins the runs already started.
  if (failures.length > 0)
    return { status, body: { error: failures.join('; '), ...(runs.length > 0 ? { runs } : {}) } };
  const ignored = plan.ignored.length > 0 ? { ignored: plan.ignored.map((i) => i.reason).join('; ') } : {};
  return {
    status: 202,
    body: runs.length === 1 ? { ...runs[0], ...ignored } : { runs, ...ignored },
    outcome: runs.some((r) => r.started) ? 'started' : 'joined',
  };
}
