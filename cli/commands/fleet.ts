// `successover fleet run planned|upgrade --clusters SELECTOR`, `fleet progress|pause|resume|abort`
// and `successover drain-host MACHINE`: a runbook on many clusters (workflows/fleet.ts). The limits
// and the selector's emptiness are checked here, before anything starts; what the selector names
// is resolved by the fleet's first step, on a worker, whose inventory is authoritative.
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import {
  DrainHostInputSchema,
  fleetName,
  FleetInputSchema,
  FLEET_RUNBOOKS,
  type FleetRunbook,
} from '../../domain/fleet/input';
import { fleetLimitsProblems } from '../../domain/fleet/select';
import { parseInput } from '../../domain/runbook';
import { connectClient } from '../../temporal/connection';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import {
  abortUpdate,
  drainWorkflowId,
  FLEET_WORKFLOWS,
  fleetProgressQuery,
  fleetWorkflowId,
  pauseUpdate,
  resumeUpdate,
  SEARCH_ATTRIBUTE_KEYS,
  type FleetProgress,
  type FleetResult,
} from '../../workflows/api';
// Started by their function (the client sends its name); none of their code runs here.
import { drainHost, fleet } from '../../workflows/fleet';
import { failureReason, printRunFailure, uiLink } from '../runbooks';

interface LimitOptions {
  concurrency: string;
  maxFailures: string;
  dryRun?: boolean;
  json?: boolean;
  wait: boolean;
  taskQueue: string;
}

interface FleetRunOptions extends LimitOptions {
  clusters: string;
  id?: string;
  window?: string;
  // planned
  force?: boolean;
  maxLag?: string;
  waitTimeout?: string;
  // upgrade
  green?: string;
  targetVersion?: string;
  soak?: string;
  rollbackWindow?: string;
  approval?: boolean;
  donor?: string;
  method?: string;
  wipe?: boolean;
}

/** The command line's problems, found before anything starts (the worker resolves the rest). */
export class FleetArgsError extends Error {
  override readonly name = 'FleetArgsError';
}

const number = (v: string | undefined) => (v === undefined ? undefined : v.trim() === '' ? NaN : Number(v));

function limits(o: LimitOptions) {
  const concurrency = number(o.concurrency)!;
  const maxFailures = number(o.maxFailures)!;
  const problems = fleetLimitsProblems({ concurrency, maxFailures });
  return { concurrency, maxFailures, problems };
}

/** The fleet's input and workflow id from the command line; FleetArgsError lists every problem. */
export function fleetRequest(runbook: string, o: FleetRunOptions) {
  if (!(FLEET_RUNBOOKS as readonly string[]).includes(runbook))
    throw new FleetArgsError(`unknown runbook "${runbook}": a fleet runs ${FLEET_RUNBOOKS.join(' or ')}`);
  const rb = runbook as FleetRunbook;
  const l = limits(o);
  const problems = [...l.problems];
  if (o.clusters.trim() === '')
    problems.push('--clusters: empty selector: give one, e.g. all, tier=gold,dc=eu or name=db-eu-*');
  if (rb === 'upgrade' && !o.green)
    problems.push(
      '--green: an upgrade fleet needs the green host of each cluster, e.g. db3 or {cluster}-green',
    );
  if (o.id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.,=:!*-]{0,99}$/.test(o.id))
    problems.push(
      '--id: expected a name of letters, digits and _ . , = : ! * - (at most 100), e.g. nightly-gold',
    );
  if (problems.length) throw new FleetArgsError(problems.join('; '));
  const input = parseInput(FleetInputSchema, 'fleet', {
    runbook: rb,
    selector: o.clusters,
    concurrency: l.concurrency,
    maxFailures: l.maxFailures,
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.window ? { window: o.window } : {}),
    planned: {
      ...(o.force ? { force: true } : {}),
      ...(o.maxLag !== undefined ? { maxLagSeconds: number(o.maxLag) } : {}),
      ...(o.waitTimeout !== undefined ? { waitTimeoutSeconds: number(o.waitTimeout) } : {}),
    },
    ...(rb === 'upgrade'
      ? {
          upgrade: {
            greenHost: o.green,
            ...(o.targetVersion ? { targetVersion: o.targetVersion } : {}),
            ...(o.soak !== undefined ? { soakSeconds: number(o.soak) } : {}),
            ...(o.rollbackWindow !== undefined ? { rollbackWindowSeconds: number(o.rollbackWindow) } : {}),
            ...(o.approval ? { requireApproval: true } : {}),
            ...(o.donor ? { donor: o.donor } : {}),
            ...(o.method ? { method: o.method } : {}),
            ...(o.wipe ? { wipe: true } : {}),
            ...(o.waitTimeout !== undefined ? { waitTimeoutSeconds: number(o.waitTimeout) } : {}),
          },
        }
      : {}),
  });
  return { input, workflowId: fleetWorkflowId(rb, o.id ?? fleetName(o.clusters)) };
}

export function drainRequest(machine: string, o: LimitOptions) {
  const l = limits(o);
  if (l.problems.length) throw new FleetArgsError(l.problems.join('; '));
  const input = parseInput(DrainHostInputSchema, FLEET_WORKFLOWS.drainHost, {
    machine,
    concurrency: l.concurrency,
    maxFailures: l.maxFailures,
    ...(o.dryRun ? { dryRun: true } : {}),
  });
  return { input, workflowId: drainWorkflowId(machine) };
}

const limitOptions = (c: Command) =>
  c
    .option('--concurrency <n>', 'clusters running at once', '1')
    .option(
      '--max-failures <k>',
      'no new cluster starts once this many have failed (refusals do not count; 0 and 1 stop at the first)',
      '1',
    )
    .option(
      '--dry-run',
      'change nothing: each planned child runs its own dry run (an upgrade fleet lists its plan)',
    )
    .option('--no-wait', 'start it, print its id and return (watch with fleet progress)')
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .option('--json', 'print the result (or the refusal) as JSON');

export function registerFleet(program: Command): void {
  const group = program
    .command('fleet')
    .description('run a runbook on many clusters: bounded concurrency, a failure budget, pause/resume/abort');

  limitOptions(
    group
      .command('run')
      .description('start a fleet of planned successovers or blue/green upgrades and wait for it')
      .argument('<runbook>', FLEET_RUNBOOKS.join('|'))
      .requiredOption(
        '--clusters <selector>',
        'cluster names and labels: all, tier=gold,dc=eu, name=db-eu-*, ...',
      )
      .option('--id <name>', 'name the fleet (its id is fleet/<runbook>/<name>; default: the selector)')
      .option('--window <spec>', 'planned: start clusters only inside it; upgrade: each cutover waits for it')
      .option('--force', 'planned: override the lag and long-transaction checks')
      .option('--max-lag <seconds>', 'planned: refuse a target lagging more than this')
      .option('--wait-timeout <seconds>', 'bound on waiting for a target to apply the primary position')
      .option('--green <host>', 'upgrade: the green host of each cluster, e.g. db3 or {cluster}-green')
      .option('--target-version <version>', 'upgrade: the version green must run, e.g. 11.4')
      .option('--soak <seconds>', 'upgrade: soak before each cutover')
      .option('--rollback-window <seconds>', 'upgrade: how long blue stays ready for a rollback')
      .option('--approval', 'upgrade: each cutover waits for `upgrade approve --cluster ...`')
      .option('--donor <host>', 'upgrade: provisioning donor (template like --green)')
      .option('--method <logical|physical>', 'upgrade: provisioning method')
      .option('--wipe', "upgrade: drop what green's server holds before provisioning it"),
  ).action(async (runbook: string, o: FleetRunOptions) => {
    const { input, workflowId } = refuseBadArgs(o.json, () => fleetRequest(runbook, o));
    if (!input) return;
    await startAndWait(o, {
      workflowId,
      summary: `${o.dryRun ? 'dry run: ' : ''}fleet: ${runbook} on ${o.clusters}, ${input.concurrency} at once`,
      start: (client) =>
        client.workflow.start(fleet, {
          workflowId,
          taskQueue: o.taskQueue,
          args: [input],
          typedSearchAttributes: [{ key: SEARCH_ATTRIBUTE_KEYS.Runbook, value: FLEET_WORKFLOWS.fleet }],
          staticSummary: `${o.dryRun ? 'dry run: ' : ''}${runbook} on ${o.clusters}`,
          workflowIdConflictPolicy: 'FAIL',
        }),
    });
  });

  group
    .command('progress')
    .description('where each cluster of a running fleet (or drain) is')
    .option('--id <id>', 'the fleet: its workflow id or name (default: the one running)')
    .option('--json', 'print the progress as JSON')
    .action(async (o: { id?: string; json?: boolean }) => {
      await withFleet(o.id, async (handle) => {
        const p = await handle.query(fleetProgressQuery);
        if (o.json) console.log(JSON.stringify(p, null, 2));
        else printProgress(p);
      });
    });

  const answers = [
    ['pause', 'no new cluster starts until resume; running ones finish', pauseUpdate],
    ['resume', 'start clusters again after a pause', resumeUpdate],
    [
      'abort',
      'no new cluster starts; running ones finish (never cancelled mid critical section)',
      abortUpdate,
    ],
  ] as const;
  for (const [name, what, update] of answers)
    group
      .command(name)
      .description(what)
      .option('--id <id>', 'the fleet: its workflow id or name (default: the one running)')
      .option('--by <name>', 'who (recorded in the fleet; default: $USER)')
      .option('--comment <text>', 'why (recorded in the fleet)')
      .action(async (o: { id?: string; by?: string; comment?: string }) => {
        const by = o.by ?? process.env.USER;
        const request = { ...(by ? { by } : {}), ...(o.comment ? { comment: o.comment } : {}) };
        await withFleet(
          o.id,
          async (handle) => {
            console.log(`${handle.workflowId}: ${await handle.executeUpdate(update, { args: [request] })}`);
          },
          name,
        );
      });

  limitOptions(
    program
      .command('drain-host')
      .description(
        'move every primary off a machine (planned successovers to healthy replicas elsewhere); clusters that cannot move are listed',
      )
      .argument('<machine>', "the machine: a host's inventory machine:, else its address"),
  ).action(async (machine: string, o: LimitOptions) => {
    const { input, workflowId } = refuseBadArgs(o.json, () => drainRequest(machine, o));
    if (!input) return;
    await startAndWait(o, {
      workflowId,
      summary: `${o.dryRun ? 'dry run: ' : ''}drain ${machine}`,
      start: (client) =>
        client.workflow.start(drainHost, {
          workflowId,
          taskQueue: o.taskQueue,
          args: [input],
          typedSearchAttributes: [{ key: SEARCH_ATTRIBUTE_KEYS.Runbook, value: FLEET_WORKFLOWS.drainHost }],
          staticSummary: `${o.dryRun ? 'dry run: ' : ''}drain-host ${machine}`,
          workflowIdConflictPolicy: 'FAIL',
        }),
    });
  });
}

/** Bad arguments: the reason and exit status 1, before any connection. */
function refuseBadArgs<T extends { input: unknown; workflowId: string }>(
  json: boolean | undefined,
  build: () => T,
): T | { input: undefined; workflowId: undefined } {
  try {
    return build();
  } catch (e) {
    const message = `refused, nothing was started: ${e instanceof Error ? e.message : String(e)}`;
    if (json) console.log(JSON.stringify({ ok: false, type: 'BadInput', message }, null, 2));
    else console.error(message);
    process.exitCode = 1;
    return { input: undefined, workflowId: undefined };
  }
}

async function startAndWait(
  o: LimitOptions,
  s: {
    workflowId: string;
    summary: string;
    start: (client: Client) => Promise<{ firstExecutionRunId: string; result(): Promise<FleetResult> }>;
  },
): Promise<void> {
  const client = await connectClient();
  let ids: { workflowId: string; runId: string } | undefined;
  try {
    let handle;
    try {
      handle = await s.start(client);
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError)
        throw new Error(
          `refused: ${s.workflowId} is already running: watch it with \`successover fleet progress --id ${s.workflowId}\`, or name another with --id`,
        );
      throw e;
    }
    ids = { workflowId: s.workflowId, runId: handle.firstExecutionRunId };
    const where = `started ${s.workflowId} (${uiLink(ids.workflowId, ids.runId)}); \`successover fleet progress --id ${s.workflowId}\` shows each cluster`;
    if (!o.wait) {
      if (o.json) console.log(JSON.stringify({ ok: true, started: true, ...ids }, null, 2));
      else console.log(where);
      return;
    }
    if (!o.json) console.error(where);
    const r = await handle.result();
    if (o.json) console.log(JSON.stringify({ ...r, runId: ids.runId }, null, 2));
    else printResult(r);
    if (!r.ok) process.exitCode = 1;
  } catch (e) {
    printRunFailure(o.json, ids, e, (reason) => `${s.summary} failed: ${reason.message}`);
  } finally {
    await client.connection.close();
  }
}

/** The fleet named by --id (a workflow id or a fleet's name), else the one fleet or drain running. */
async function withFleet(
  id: string | undefined,
  fn: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<void>,
  what = 'progress',
): Promise<void> {
  const client = await connectClient();
  try {
    const workflowId = await findFleet(client, id);
    await fn(client.workflow.getHandle(workflowId));
  } catch (e) {
    console.error(`fleet ${what} refused: ${failureReason(e).message}`);
    process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}

export async function findFleet(client: Client, id: string | undefined): Promise<string> {
  const running: string[] = [];
  const query = `(Runbook = "${FLEET_WORKFLOWS.fleet}" OR Runbook = "${FLEET_WORKFLOWS.drainHost}") AND ExecutionStatus = "Running"`;
  for await (const w of client.workflow.list({ query })) running.push(w.workflowId);
  if (id !== undefined) {
    // A full id, or the name part of one: fleet/planned/<name>, drain-host/<machine>.
    const match = running.filter((w) => w === id || w.endsWith(`/${id}`));
    if (match.length === 1) return match[0];
    if (match.length > 1) throw new Error(`--id ${id} names ${match.join(' and ')}: give the whole id`);
    if (id.startsWith(`${FLEET_WORKFLOWS.fleet}/`) || id.startsWith(`${FLEET_WORKFLOWS.drainHost}/`))
      return id;
    throw new Error(
      `no running fleet is named ${id}${running.length ? ` (running: ${running.join(', ')})` : ' (none is running)'}`,
    );
  }
  if (running.length === 1) return running[0];
  if (running.length === 0) throw new Error('no fleet or drain is running (a finished one: --id its id)');
  throw new Error(`${running.length} fleets are running: choose one with --id (${running.join(', ')})`);
}

const CLUSTER_LINES = 50;

function printProgress(p: FleetProgress): void {
  const c = p.counts;
  console.log(
    `${p.fleet}: ${p.phase}${p.dryRun ? ' (dry run)' : ''}${p.paused ? `, paused${p.paused.by ? ` by ${p.paused.by}` : ''}` : ''}${p.aborted ? `, aborted${p.aborted.by ? ` by ${p.aborted.by}` : ''}` : ''}${p.budgetSpent ? ', failure budget spent' : ''}`,
  );
  console.log(
    `  ${c.done} done, ${c.refused} refused, ${c.failed} failed, ${c.running} running (of ${p.concurrency}), ${c.waiting} waiting, ${c.skipped} skipped; run ${p.run}`,
  );
  const shown = p.clusters.filter((x) => x.status !== 'waiting' || p.clusters.length <= CLUSTER_LINES);
  for (const x of shown.slice(-CLUSTER_LINES))
    console.log(`  ${x.status.padEnd(8)} ${x.cluster}${x.detail ? `: ${x.detail}` : ''}`);
  if (shown.length > CLUSTER_LINES)
    console.log(`  (the last ${CLUSTER_LINES} of ${shown.length}; --json has all)`);
}

function printResult(r: FleetResult): void {
  const c = r.counts;
  console.log(
    `${r.fleet} ${r.ended}${r.dryRun ? ' (dry run)' : ''}: ${c.done} done, ${c.refused} refused, ${c.failed} failed, ${c.skipped} not started, in ${r.runs} run(s)`,
  );
  const lines =
    r.clusters.length <= CLUSTER_LINES ? r.clusters : r.clusters.filter((x) => x.status !== 'done');
  for (const x of lines)
    console.log(`  ${x.status.padEnd(8)} ${x.cluster}${x.detail ? `: ${x.detail}` : ''}`);
  if (lines.length < r.clusters.length) console.log(`  (${c.done} done not listed; --json has all)`);
  if (r.failed.length) console.log(`failed: ${r.failed.join(', ')}`);
  if (r.notStarted.length) console.log(`not started: ${r.notStarted.join(', ')}`);
}
