// Fleets: a runbook on many clusters, each cluster its own child run (the ordinary workflow id, so
// one runbook per cluster holds), at most `concurrency` at once; once `maxFailures` children have
// failed no new one starts, and the result says which failed and which never started. A refusal
// is not a failure (workflows/fleet/outcome.ts). `pause`, `resume` and `abort` stop or restart new
// starts; a running child is never cancelled, by them or by the fleet's end: it may be inside its
// critical section. The run continues as new with no child running (workflows/fleet/engine.ts).
//
// drain-host: every cluster whose primary is on one machine gets a planned successover to a healthy
// replica on another machine, with the same concurrency and budget. The plan is made before any
// child starts; a problem in it refuses the whole drain.
import {
  CancellationScope,
  continueAsNew,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  clip,
  DrainHostInputSchema,
  fillTemplate,
  FleetInputSchema,
  type DrainHostInput,
  type FleetInput,
} from '../domain/fleet/input';
import { acts, call, callLocal, defaultOptions, localActs } from './activities';
import { FLEET_WORKFLOWS, FailureType, SEARCH_ATTRIBUTE_KEYS, type FleetResult } from './api';
import { runChild, type ChildPlan } from './fleet/children';
import { Fleet } from './fleet/engine';
import { refused } from './runbook';
import { validated } from './scaffold';

/** Live discovery of every cluster on a machine: minutes at most, a heartbeat per cluster. */
const discoveryOptions: ActivityOptions = {
  ...defaultOptions,
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
};

/** A refusal lists this many problems, then how many more (5,000 clusters without a green host). */
const PROBLEMS_SHOWN = 20;

export async function fleet(raw: FleetInput): Promise<FleetResult> {
  const input = validated(FLEET_WORKFLOWS.fleet, FleetInputSchema, raw);
  const subject = clip(input.selector ?? input.clusters!.join(','), 100);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.Runbook, value: FLEET_WORKFLOWS.fleet }]);
  const plan: ChildPlan = {
    runbook: input.runbook,
    fleet: workflowInfo().workflowId,
    dryRun: input.dryRun,
    window: input.window,
    planned: input.planned,
    upgrade: input.upgrade,
  };
  const engine = new Fleet(
    {
      kind: FLEET_WORKFLOWS.fleet,
      runbook: input.runbook,
      subject,
      concurrency: input.concurrency,
      maxFailures: input.maxFailures,
      continueAsNewAfter: input.continueAsNewAfter,
      dryRun: input.dryRun,
      // A planned fleet starts children inside the window only; an upgrade's children wait for it
      // themselves, at their cutover, after hours of provisioning and soak.
      window: input.runbook === 'planned' ? input.window : undefined,
      child: (item) => runChild(plan, item),
    },
    input.carried,
    input.carried ? 'running' : 'resolving',
  );
  abortOnCancel(engine);

  if (!input.carried) {
    // 1. Resolve the selector on the worker, whose inventory is authoritative; the list is
    // recorded in history. Any problem refuses the fleet before a child starts.
    const resolved = await callLocal(localActs.resolveFleet, `resolve ${subject}`, {
      ...(input.selector !== undefined ? { selector: input.selector } : { clusters: input.clusters }),
      ...(input.upgrade ? { greenHost: input.upgrade.greenHost } : {}),
    });
    if (resolved.problems.length) throw refused(FLEET_WORKFLOWS.fleet, subject, shown(resolved.problems));
    engine.begin(resolved.clusters.map((cluster) => ({ cluster })));

    // 2. An upgrade's dry run is the list alone: blue/green has no dry run (its first step provisions).
    if (input.dryRun && input.runbook === 'upgrade')
      return engine.finish(
        (c) => `dry run: would upgrade ${c} with green ${fillTemplate(input.upgrade!.greenHost, c)}`,
      );
  }

  // 3. The children, at most `concurrency` at once (a planned dry run runs each child's own).
  if ((await runChildren(engine)) === 'continue-as-new')
    await continueAsNew<typeof fleet>({ ...raw, carried: engine.carry() });

  // 4. What each cluster came to; the clusters never started are listed with why.
  return engine.finish();
}

export async function drainHost(raw: DrainHostInput): Promise<FleetResult> {
  const input = validated(FLEET_WORKFLOWS.drainHost, DrainHostInputSchema, raw);
  const { machine } = input;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.Runbook, value: FLEET_WORKFLOWS.drainHost }]);
  const plan: ChildPlan = {
    runbook: 'planned',
    fleet: workflowInfo().workflowId,
    dryRun: input.dryRun,
    planned: input.planned,
    avoidMachine: machine,
  };
  const engine = new Fleet(
    {
      kind: FLEET_WORKFLOWS.drainHost,
      runbook: 'planned',
      subject: machine,
      concurrency: input.concurrency,
      maxFailures: input.maxFailures,
      continueAsNewAfter: input.continueAsNewAfter,
      dryRun: input.dryRun,
      child: (item) => runChild(plan, item),
    },
    input.carried,
    input.carried ? 'running' : 'discovering',
  );
  abortOnCancel(engine);

  if (!input.carried) {
    // 1. Live facts of every cluster with a host on the machine: its primary, its healthy replicas.
    const gathered = await call(
      acts.drainFacts,
      `discover the clusters on ${machine}`,
      { machine, concurrency: input.discoveryConcurrency },
      discoveryOptions,
    );

    // 2. The plan: which primaries move, to which candidates; which clusters cannot move and why.
    // A problem in it (a machine with no primary) refuses the drain before any child starts.
    engine.show('planning');
    const drain = await callLocal(localActs.planDrain, `plan the drain of ${machine}`, {
      machine,
      facts: gathered.facts,
    });
    if (drain.problems.length) throw refused(FLEET_WORKFLOWS.drainHost, machine, shown(drain.problems));
    const unreadable = new Map(gathered.unreadable.map((u) => [u.cluster, u.error]));
    engine.begin(
      drain.move.map((m) => ({ cluster: m.cluster, candidates: m.candidates })),
      drain.refused.map((r) => ({
        cluster: r.cluster,
        status: 'refused' as const,
        type: FailureType.Refused,
        detail: clip(
          unreadable.has(r.cluster) ? `${r.reason} (discovery: ${unreadable.get(r.cluster)})` : r.reason,
        ),
      })),
      drain.replicasOnly.map((r) => ({
        cluster: r.cluster,
        status: 'skipped' as const,
        detail: clip(
          `nothing moves: only replicas on ${machine} (${r.hosts.join(', ')}), which go down with it`,
        ),
      })),
    );
  }

  // 3. A planned successover per move, its target restricted to the plan's candidates and never on
  // the machine (each child's preflight checks both again, on its own discovery).
  if ((await runChildren(engine)) === 'continue-as-new')
    await continueAsNew<typeof drainHost>({ ...raw, carried: engine.carry() });

  // 4. What each cluster came to, the plan's refusals included.
  return engine.finish();
}

/**
 * The loop runs in a non-cancellable scope, and a cancel request of the fleet is an abort: no new
 * child starts and the running ones finish. Cancelling children would cancel them wherever they
 * are, inside a critical section included.
 */
function runChildren(engine: Fleet) {
  return CancellationScope.nonCancellable(() => engine.run());
}

function abortOnCancel(engine: Fleet): void {
  CancellationScope.current().cancelRequested.catch(() => {
    engine.abort({ by: 'a cancel request', at: new Date().toISOString() });
  });
}

function shown(problems: string[]): string[] {
  return problems.length <= PROBLEMS_SHOWN
    ? problems
    : [...problems.slice(0, PROBLEMS_SHOWN), `and ${problems.length - PROBLEMS_SHOWN} more`];
}
