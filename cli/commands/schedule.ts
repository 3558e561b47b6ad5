// `successover schedule create|list|describe|pause|unpause|delete|trigger` over Temporal Schedules,
// and `skip-window`. A schedule starts a runbook with the same workflow type, task queue, search
// attributes and input validation as `run`; the runbook takes the cluster lock itself, so a
// scheduled run and a hand-started one never run on a cluster at the same time.
import { setTimeout as delay } from 'node:timers/promises';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSummary,
} from '@temporalio/client';
import type { Command } from 'commander';
import { parseInput } from '../../domain/runbook';
import {
  formatWindow,
  nextWindow,
  openingAnomalies,
  parseWindow,
  validateCron,
  windowToCalendarSpecs,
} from '../../domain/window';
import { connectClient } from '../../temporal/connection';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import { runSearchAttributes, skipWindowUpdate, WAITING_FOR_WINDOW } from '../../workflows/api';
import { failureReason, STARTABLE_RUNBOOKS, uiLink } from '../runbooks';

/** What successover records on its schedules (memo), to list them and say what they do. */
export interface ScheduleMemo {
  runbook: string;
  cluster: string;
  window?: string;
  cron?: string;
  createdBy?: string;
}

export interface ScheduleCreateArgs {
  id: string;
  runbook: string;
  cluster: string;
  cron?: string;
  window?: string;
  /** JSON object: the runbook's input (cluster and window are filled in from their options). */
  input?: string;
  catchupWindow?: string;
  paused?: boolean;
  note?: string;
  taskQueue?: string;
}

export interface PlannedSchedule {
  options: ScheduleOptions;
  memo: ScheduleMemo;
  /** Human text: what fires when, and what it starts. */
  summary: string;
  warnings: string[];
}

/** A catch-up window below this is refused by the server. */
const MIN_CATCHUP_MS = 10_000;
const DEFAULT_CRON_CATCHUP_MS = 10 * 60_000;
const TRIGGER_WAIT_MS = 10_000;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "10m", "2h", "1d" in ms; the error names the flag. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: expected a duration like 90s, 10m, 2h or 1d, got "${text}"`);
  const ms = Number(m[1]) * UNITS[m[2]];
  if (ms < MIN_CATCHUP_MS) throw new Error(`${flag}: at least 10s, got "${text}"`);
  return ms;
}

function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNITS).reverse())
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$/;

/**
 * Checks every argument and the runbook's input (with the runbook's own schema) and builds the
 * schedule; nothing is contacted, so a bad argument creates nothing.
 */
export function planSchedule(a: ScheduleCreateArgs, now = new Date()): PlannedSchedule {
  if (!SCHEDULE_ID.test(a.id))
    throw new Error(
      `--id: "${a.id}" is not a schedule id (letters, digits and . _ - : /, starting with a letter or digit; e.g. lab-weekly-switchover)`,
    );
  const runbook = STARTABLE_RUNBOOKS[a.runbook];
  if (!runbook)
    throw new Error(
      `--runbook: unknown or not yet schedulable runbook "${a.runbook}"; schedulable: ${Object.keys(STARTABLE_RUNBOOKS).join(', ')}`,
    );
  if ((a.cron === undefined) === (a.window === undefined))
    throw new Error(
      'give exactly one of --cron "0 2 * * 0" (when to start) or --window "Sun 02:00-04:00 UTC" (start at its opening, and never outside it)',
    );

  let raw: Record<string, unknown> = {};
  if (a.input !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(a.input);
    } catch (e) {
      throw new Error(`--input: not JSON (${(e as Error).message}); e.g. --input '{"target":"db2"}'`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`--input: expected a JSON object, e.g. '{"target":"db2"}', got ${a.input}`);
    raw = parsed as Record<string, unknown>;
  }
  if (raw.cluster !== undefined && raw.cluster !== a.cluster)
    throw new Error(`--input: its cluster "${String(raw.cluster)}" is not --cluster "${a.cluster}"`);
  raw = { ...raw, cluster: a.cluster };

  const warnings: string[] = [];
  let spec: ScheduleOptions['spec'];
  let when: string;
  let catchupMs = DEFAULT_CRON_CATCHUP_MS;
  const memo: ScheduleMemo = {
    runbook: a.runbook,
    cluster: a.cluster,
    ...(process.env.USER ? { createdBy: process.env.USER } : {}),
  };
  if (a.window !== undefined) {
    const w = parseWindow(a.window);
    const text = formatWindow(w);
    if (raw.window !== undefined && (typeof raw.window !== 'string' || !sameWindow(raw.window, text)))
      throw new Error(`--input: its window "${String(raw.window)}" is not --window "${a.window}"`);
    // In the input too, so a run started late (catch-up) or by `trigger` waits for the window.
    raw = { ...raw, window: text };
    spec = windowToCalendarSpecs(w);
    memo.window = text;
    const next = nextWindow(w, now);
    when = `at each opening of the window ${text} (next ${next.openNow ? 'open now, until' : 'opens'} ${(next.openNow ? next.closesAt : next.opensAt).toISOString()})`;
    // Late by more than the window's length, a start would only wait for the next window.
    catchupMs = Math.max(MIN_CATCHUP_MS, next.closesAt.getTime() - next.opensAt.getTime());
    warnings.push(...openingAnomalies(w, now).map((x) => x.detail));
  } else {
    const cron = validateCron(a.cron as string);
    spec = { cronExpressions: [cron] };
    memo.cron = cron;
    when = `on cron "${cron}"${/^(CRON_)?TZ=/.test(cron) ? '' : ' (UTC)'}`;
  }
  if (a.catchupWindow !== undefined) catchupMs = parseDuration('--catchup-window', a.catchupWindow);

  // The schedule keeps the input as given, so each run applies the defaults of its own time.
  try {
    parseInput(runbook.schema, runbook.runbook, raw);
  } catch (e) {
    if (a.window !== undefined && /unknown field .*"window"/.test((e as Error).message))
      throw new Error(`${(e as Error).message} (${runbook.runbook} takes no window: use --cron)`);
    throw e;
  }
  const workflowId = runbook.workflowId(raw as { cluster: string });
  const attributes = runSearchAttributes(a.cluster, runbook.runbook);
  const options: ScheduleOptions = {
    scheduleId: a.id,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: runbook.workflow,
      taskQueue: a.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [raw],
      workflowId,
      typedSearchAttributes: attributes,
      staticSummary: `${runbook.runbook} on ${a.cluster}, started by schedule ${a.id}`,
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: catchupMs,
    },
    memo: { successover: memo },
    typedSearchAttributes: attributes,
    state: { paused: a.paused ?? false, ...(a.note ? { note: a.note } : {}) },
  };
  return {
    options,
    memo,
    summary: `${runbook.runbook} on ${a.cluster} ${when}; overlap skip, catch-up window ${formatDuration(catchupMs)}; runs ${workflowId}-<time> with input ${JSON.stringify(raw)}`,
    warnings,
  };
}

function sameWindow(a: string, canonical: string): boolean {
  try {
    return formatWindow(parseWindow(a)) === canonical;
  } catch {
    return false;
  }
}

export async function createSchedule(client: Client, a: ScheduleCreateArgs, now = new Date()) {
  const planned = planSchedule(a, now);
  const handle = await client.schedule.create(planned.options);
  return { handle, planned };
}

export function scheduleMemo(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const m = memo?.successover as ScheduleMemo | undefined;
  return m && typeof m === 'object' && typeof m.cluster === 'string' ? m : undefined;
}

export interface ScheduleListEntry {
  id: string;
  runbook: string;
  cluster: string;
  when: string;
  paused: boolean;
  note?: string;
  nextRunAt: string | null;
  lastRun: { workflowId: string; runId: string; takenAt: string } | null;
}

/** successover's schedules (those with its memo), by id. */
export async function listSchedules(client: Client): Promise<ScheduleListEntry[]> {
  const out: ScheduleListEntry[] = [];
  for await (const s of client.schedule.list()) {
    const entry = listEntry(s);
    if (entry) out.push(entry);
  }
  return out.sort((x, y) => x.id.localeCompare(y.id));
}

function listEntry(s: ScheduleSummary): ScheduleListEntry | undefined {
  const m = scheduleMemo(s.memo);
  if (!m) return undefined;
  const last = s.info.recentActions.at(-1);
  return {
    id: s.scheduleId,
    runbook: m.runbook,
    cluster: m.cluster,
    when: m.window ? `window ${m.window}` : `cron ${m.cron ?? '?'}`,
    paused: s.state.paused,
    ...(s.state.note ? { note: s.state.note } : {}),
    nextRunAt: s.info.nextActionTimes[0]?.toISOString() ?? null,
    lastRun: last
      ? {
          workflowId: last.action.workflow.workflowId,
          runId: last.action.workflow.firstExecutionRunId,
          takenAt: last.takenAt.toISOString(),
        }
      : null,
  };
}

/** A run a trigger started, or why none did. */
export type TriggerOutcome =
  | { started: true; workflowId: string; runId: string }
  | { started: false; reason: string; running: { workflowId: string; runId: string }[] };

/**
 * Starts the schedule's action now, with the schedule's overlap policy (skip), and says which run
 * it started: the SDK's trigger would otherwise allow overlapping runs and report nothing.
 */
export async function triggerSchedule(client: Client, id: string, waitMs = TRIGGER_WAIT_MS) {
  const handle = client.schedule.getHandle(id);
  const before = await handle.describe();
  const seen = new Set(before.info.recentActions.map((r) => r.action.workflow.firstExecutionRunId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const d = await handle.describe();
    const fresh = d.info.recentActions.find((r) => !seen.has(r.action.workflow.firstExecutionRunId));
    if (fresh)
      return {
        started: true,
        workflowId: fresh.action.workflow.workflowId,
        runId: fresh.action.workflow.firstExecutionRunId,
      } satisfies TriggerOutcome;
    const running = d.info.runningActions.map((r) => ({
      workflowId: r.workflow.workflowId,
      runId: r.workflow.firstExecutionRunId,
    }));
    if (d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap)
      return {
        started: false,
        reason: `skipped: a run of schedule ${id} is still running (overlap policy skip)`,
        running,
      } satisfies TriggerOutcome;
    if (Date.now() > deadline)
      return {
        started: false,
        reason: `no run seen within ${waitMs / 1000} s of the trigger; see \`successover schedule describe ${id}\``,
        running,
      } satisfies TriggerOutcome;
    await delay(250);
  }
}

/** Runs of a cluster waiting for their window (visibility, so a few seconds behind). */
export async function waitingRuns(
  client: Client,
  cluster: string,
): Promise<{ workflowId: string; runId: string }[]> {
  const out: { workflowId: string; runId: string }[] = [];
  const query = `Cluster = "${cluster.replace(/["\\]/g, '')}" AND RunbookPhase = "${WAITING_FOR_WINDOW}" AND ExecutionStatus = "Running"`;
  for await (const w of client.workflow.list({ query }))
    out.push({ workflowId: w.workflowId, runId: w.runId });
  return out;
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules that start runbooks: at upgrade windows or on a cron');

  schedule
    .command('create')
    .description('create a schedule (every argument and the input are checked before anything is created)')
    .requiredOption('--id <name>', 'schedule id, e.g. lab-weekly-switchover')
    .requiredOption('--runbook <name>', `runbook to start: ${Object.keys(STARTABLE_RUNBOOKS).join(', ')}`)
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--cron <expr>', 'when to start, e.g. "0 2 * * 0" (UTC unless prefixed CRON_TZ=Europe/Paris)')
    .option(
      '--window <spec>',
      'start at each opening of this window, e.g. "Sun 02:00-04:00 UTC"; a run started outside it waits for it',
    )
    .option('--input <json>', 'the runbook input as a JSON object, e.g. \'{"target":"db2"}\'')
    .option(
      '--catchup-window <duration>',
      'start a run missed (server down) up to this late, e.g. 10m (default: the window length, or 10m)',
    )
    .option('--paused', 'create it paused')
    .option('--note <text>', 'note shown with the schedule')
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .option('--json', 'print {ok, id, summary, warnings, nextRunAt}')
    .action(async (o: ScheduleCreateArgs & { json?: boolean }) => {
      const planned = planSchedule(o); // refuses bad arguments before connecting
      await withClient(`schedule create ${o.id}`, async (client) => {
        const { handle } = await createSchedule(client, o);
        const d = await handle.describe();
        const nextRunAt = d.info.nextActionTimes[0]?.toISOString() ?? null;
        if (o.json)
          console.log(
            JSON.stringify(
              { ok: true, id: o.id, summary: planned.summary, warnings: planned.warnings, nextRunAt },
              null,
              2,
            ),
          );
        else {
          console.log(`schedule ${o.id} created${o.paused ? ' (paused)' : ''}: ${planned.summary}`);
          if (nextRunAt) console.log(`  next run: ${nextRunAt}`);
          for (const w of planned.warnings) console.log(`  warning: ${w}`);
        }
      });
    });

  schedule
    .command('list')
    .description("successover's schedules: runbook, cluster, when, state, next and last run")
    .option('--json', 'print an array of {id, runbook, cluster, when, paused, note, nextRunAt, lastRun}')
    .action(async (o: { json?: boolean }) => {
      await withClient('schedule list', async (client) => {
        const all = await listSchedules(client);
        if (o.json) return console.log(JSON.stringify(all, null, 2));
        if (!all.length) return console.log('no schedules');
        for (const s of all)
          console.log(
            `${s.id}  ${s.runbook} on ${s.cluster}  ${s.when}  ${s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : 'active'}  next ${s.nextRunAt ?? '-'}  last ${s.lastRun ? `${s.lastRun.takenAt} ${s.lastRun.workflowId}` : '-'}`,
          );
      });
    });

  schedule
    .command('describe <id>')
    .description('a schedule in full: spec, policies, input, next runs, recent and running runs')
    .option('--json', 'print the description as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withClient(`schedule describe ${id}`, async (client) => {
        const d = await client.schedule.getHandle(id).describe();
        if (o.json) console.log(JSON.stringify(describeView(d), null, 2));
        else printDescription(d);
      });
    });

  for (const [name, what] of [
    ['pause', 'pause a schedule: it starts nothing until unpaused (trigger still works)'],
    ['unpause', 'unpause a schedule'],
  ] as const)
    schedule
      .command(`${name} <id>`)
      .description(what)
      .option('--note <text>', 'why (shown with the schedule)')
      .action(async (id: string, o: { note?: string }) => {
        await withClient(`schedule ${name} ${id}`, async (client) => {
          const handle = client.schedule.getHandle(id);
          const note = o.note ?? `${name}d by ${process.env.USER ?? 'unknown'} with successover`;
          await (name === 'pause' ? handle.pause(note) : handle.unpause(note));
          console.log(`schedule ${id} ${name}d: ${note}`);
        });
      });

  schedule
    .command('delete <id>')
    .description('delete a schedule; a run it started goes on')
    .action(async (id: string) => {
      await withClient(`schedule delete ${id}`, async (client) => {
        await client.schedule.getHandle(id).delete();
        console.log(`schedule ${id} deleted`);
      });
    });

  schedule
    .command('trigger <id>')
    .description(
      "start the schedule's runbook now (skipped while a run of it is running); a window still applies",
    )
    .option('--json', 'print {started, workflowId, runId} or {started: false, reason, running}')
    .action(async (id: string, o: { json?: boolean }) => {
      await withClient(`schedule trigger ${id}`, async (client) => {
        const r = await triggerSchedule(client, id);
        if (o.json) console.log(JSON.stringify(r, null, 2));
        else if (r.started)
          console.log(`schedule ${id} started ${r.workflowId} (${uiLink(r.workflowId, r.runId)})`);
        else {
          console.error(
            `schedule ${id}: ${r.reason}${r.running.map((x) => `\n  running: ${x.workflowId}`).join('')}`,
          );
          process.exitCode = 1;
        }
      });
    });

  program
    .command('skip-window')
    .description('start a run that waits for its upgrade window now (operator override, logged with who)')
    .option('--workflow-id <id>', 'the waiting run')
    .option('--cluster <name>', 'the run of this cluster that waits for its window')
    .option('--by <name>', 'who overrides (recorded in the timeline; default: $USER)')
    .option('--comment <text>', 'why (recorded in the timeline)')
    .action(async (o: { workflowId?: string; cluster?: string; by?: string; comment?: string }) => {
      if ((o.workflowId === undefined) === (o.cluster === undefined))
        throw new Error('give exactly one of --workflow-id ID or --cluster NAME');
      const by = o.by ?? process.env.USER;
      await withClient('skip-window', async (client) => {
        let workflowId = o.workflowId;
        if (!workflowId) {
          const waiting = await waitingRuns(client, o.cluster as string);
          if (waiting.length !== 1)
            throw new Error(
              waiting.length
                ? `${waiting.length} runs of ${o.cluster} wait for a window (${waiting.map((w) => w.workflowId).join(', ')}): give --workflow-id`
                : `no run of ${o.cluster} waits for its window`,
            );
          workflowId = waiting[0].workflowId;
        }
        const answer = await client.workflow.getHandle(workflowId).executeUpdate(skipWindowUpdate, {
          args: [{ ...(by ? { by } : {}), ...(o.comment ? { comment: o.comment } : {}) }],
        });
        console.log(`${workflowId}: ${answer}`);
      });
    });
}

export interface ScheduleView {
  id: string;
  runbook?: string;
  cluster?: string;
  when: string;
  paused: boolean;
  note?: string;
  overlap: string;
  catchupWindowMs: number;
  workflowType: string;
  workflowId?: string;
  taskQueue?: string;
  input: unknown;
  nextRunsAt: string[];
  recentRuns: { workflowId: string; runId: string; scheduledAt: string; takenAt: string }[];
  runningRuns: { workflowId: string; runId: string }[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
}

export function describeView(d: ScheduleDescription): ScheduleView {
  const m = scheduleMemo(d.memo);
  return {
    id: d.scheduleId,
    ...(m ? { runbook: m.runbook, cluster: m.cluster } : {}),
    when: m?.window
      ? `window ${m.window}`
      : m?.cron
        ? `cron ${m.cron}`
        : JSON.stringify({ ...d.spec, timezone: d.spec.timezone }),
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    overlap: String(d.policies.overlap),
    catchupWindowMs: d.policies.catchupWindow,
    workflowType: d.action.workflowType,
    workflowId: d.action.workflowId,
    taskQueue: d.action.taskQueue,
    input: d.action.args?.[0],
    nextRunsAt: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((r) => ({
      workflowId: r.action.workflow.workflowId,
      runId: r.action.workflow.firstExecutionRunId,
      scheduledAt: r.scheduledAt.toISOString(),
      takenAt: r.takenAt.toISOString(),
    })),
    runningRuns: d.info.runningActions.map((r) => ({
      workflowId: r.workflow.workflowId,
      runId: r.workflow.firstExecutionRunId,
    })),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
  };
}

function printDescription(d: ScheduleDescription): void {
  const v = describeView(d);
  const runbook = (v.runbook && STARTABLE_RUNBOOKS[v.runbook]?.runbook) ?? v.runbook ?? v.workflowType;
  console.log(`schedule ${v.id}: ${runbook} on ${v.cluster ?? '?'}, ${v.when}`);
  console.log(`  state: ${v.paused ? 'PAUSED' : 'active'}${v.note ? ` (${v.note})` : ''}`);
  console.log(`  overlap ${v.overlap.toLowerCase()}, catch-up window ${formatDuration(v.catchupWindowMs)}`);
  console.log(
    `  starts ${v.workflowType} as ${v.workflowId}-<time> on task queue ${v.taskQueue} with ${JSON.stringify(v.input)}`,
  );
  console.log(
    `  runs: ${v.actionsTaken} started, ${v.skippedOverlap} skipped (overlap), ${v.missedCatchupWindow} missed (catch-up window)`,
  );
  for (const t of v.nextRunsAt.slice(0, 3)) console.log(`  next: ${t}`);
  for (const r of v.recentRuns)
    console.log(`  recent: ${r.takenAt} ${r.workflowId} (${uiLink(r.workflowId, r.runId)})`);
  for (const r of v.runningRuns) console.log(`  running: ${r.workflowId} (${uiLink(r.workflowId, r.runId)})`);
}

async function withClient(what: string, fn: (client: Client) => Promise<void>): Promise<void> {
  const client = await connectClient();
  try {
    await fn(client);
  } catch (e) {
    const message =
      e instanceof ScheduleNotFoundError
        ? `no schedule ${e.scheduleId ?? ''} (see schedule list)`
        : failureReason(e).message;
    console.error(`${what} failed: ${message}`);
    process.exitCode = 1;
  } finally {
    await client.connection.close();
  }
}
