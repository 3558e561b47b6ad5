// Starting a runbook from the CLI: the same workflow ids, search attributes and task queue as
// the UI and schedules use, so the one-runbook-per-cluster rule holds whatever starts it.
import { join } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import type { z } from 'zod';
import {
  BlueGreenUpgradeInputSchema,
  PlannedSuccessoverInputSchema,
  ProvisionReplicaInputSchema,
  RUNBOOKS,
  type RunbookName,
} from '../domain/runbook';
import { REPO_ROOT } from '../temporal/binary';
import { connectClient, temporalConfig } from '../temporal/connection';
import { CLI_DEV_SERVER_DIR, runningServer } from '../temporal/devserver';
import { DEFAULT_TASK_QUEUE } from '../worker/taskQueue';
import { provisionWorkflowId, runSearchAttributes, workflowIdFor } from '../workflows/api';
// Workflows are started by their function (the client sends its name); none of their code runs here.
import { blueGreenUpgrade } from '../workflows/blueGreenUpgrade';
import { plannedSuccessover } from '../workflows/plannedSuccessover';
import { provisionReplica } from '../workflows/provisionReplica';

export interface StartedRun<R> {
  workflowId: string;
  runId: string;
  result: Promise<R>;
}

export async function startRunbook<R>(
  client: Client,
  opts: {
    runbook: RunbookName;
    /** The workflow function, e.g. plannedSuccessover. */
    workflow: Workflow;
    cluster: string;
    input: unknown;
    summary: string;
    taskQueue?: string;
    /** Default `<runbook>/<cluster>`; provisioning runs one per host. */
    workflowId?: string;
  },
): Promise<StartedRun<R>> {
  const workflowId = opts.workflowId ?? workflowIdFor(opts.runbook, opts.cluster);
  try {
    const handle = await client.workflow.start(opts.workflow, {
      workflowId,
      taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [opts.input],
      typedSearchAttributes: runSearchAttributes(opts.cluster, opts.runbook),
      staticSummary: opts.summary,
      workflowIdConflictPolicy: 'FAIL',
    });
    return { workflowId, runId: handle.firstExecutionRunId, result: handle.result() as Promise<R> };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await client.workflow.getHandle(workflowId).describe();
      throw new Error(
        `refused: ${workflowId} is already running (run ${running.runId}, started ${running.startTime.toISOString()}): one runbook per cluster at a time`,
      );
    }
    throw e;
  }
}

/** The reason a run failed, from the ApplicationFailure the workflow or an activity raised. */
export function failureReason(e: unknown): { type?: string; message: string } {
  let cause: unknown = e instanceof WorkflowFailedError ? e.cause : e;
  while (cause && !(cause instanceof ApplicationFailure) && (cause as { cause?: unknown }).cause)
    cause = (cause as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

export type StartOptions = Parameters<typeof startRunbook>[1];

/**
 * What `run <runbook>` does: start the run, say where to watch it, wait, and print the result (or
 * the reason it failed, with exit status 1). `hint` is printed after the UI link.
 */
export async function runAndPrint<R extends object>(
  start: StartOptions,
  o: { json?: boolean; hint?: string; failed: string; human: (r: R) => void },
): Promise<void> {
  const client = await connectClient();
  let started: StartedRun<R> | undefined;
  try {
    started = await startRunbook<R>(client, start);
    if (!o.json)
      console.error(
        `started ${started.workflowId} (${uiLink(started.workflowId, started.runId)})${o.hint ? `; ${o.hint}` : ''}`,
      );
    printRunResult(o.json, started, await started.result, o.human);
  } catch (e) {
    printRunFailure(o.json, started, e, (reason) => `${o.failed}: ${reason.message}`);
  } finally {
    await client.connection.close();
  }
}

type RunIds = { workflowId: string; runId: string };

/** A run's result: JSON with its ids (--json), else the command's own summary. */
export function printRunResult<R extends object>(
  json: boolean | undefined,
  ids: RunIds,
  r: R,
  human: (r: R) => void,
): void {
  if (json) console.log(JSON.stringify({ ...r, workflowId: ids.workflowId, runId: ids.runId }, null, 2));
  else human(r);
}

/** A refused or failed run (or one that never started): the reason, and exit status 1. */
export function printRunFailure(
  json: boolean | undefined,
  ids: RunIds | undefined,
  e: unknown,
  human: (reason: { type?: string; message: string }) => string,
): void {
  const reason = failureReason(e);
  if (json)
    console.log(
      JSON.stringify({ ok: false, workflowId: ids?.workflowId, runId: ids?.runId, ...reason }, null, 2),
    );
  else console.error(human(reason));
  process.exitCode = 1;
}

export const DEFAULT_UI_URL = 'http://localhost:8233';

/**
 * Data dirs of the dev servers this checkout starts: `successover temporal start` (.data) and
 * `lab up` (.lab/temporal, on free ports). Each holds the pid file devserver.ts writes.
 */
export const DEV_SERVER_DIRS = [CLI_DEV_SERVER_DIR, join(REPO_ROOT, '.lab', 'temporal')];

/**
 * Where the Web UI of the server the CLI talks to is: SUCCESSOVER_UI_URL when set, else the UI of
 * a running dev server recorded for that very address, else the dev server's default. Matching
 * the address matters: the lab's server listens on free ports, so its UI is rarely on 8233.
 */
export function uiBaseUrl(env: NodeJS.ProcessEnv = process.env, dataDirs = DEV_SERVER_DIRS): string {
  if (env.SUCCESSOVER_UI_URL) return env.SUCCESSOVER_UI_URL.replace(/\/+$/, '');
  const address = temporalConfig(env).connectionOptions.address;
  for (const dir of dataDirs) {
    const s = runningServer(dir);
    if (s?.uiUrl && sameEndpoint(s.address, address)) return s.uiUrl;
  }
  return DEFAULT_UI_URL;
}

export function uiLink(
  workflowId: string,
  runId: string,
  env: NodeJS.ProcessEnv = process.env,
  dataDirs = DEV_SERVER_DIRS,
): string {
  const ns = temporalConfig(env).namespace;
  return `${uiBaseUrl(env, dataDirs)}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** host:port equality where every loopback spelling (and a server on all addresses) is one host. */
function sameEndpoint(a: string, b: string): boolean {
  const split = (x: string) => {
    // "host:port", "[v6]:port", or a bare host, which gets the default port.
    const m = /^(\[[^\]]*\]|[^:]*|.*)(?::(\d+))?$/.exec(x) ?? [x, x, undefined];
    return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] ?? '7233' };
  };
  const x = split(a);
  const y = split(b);
  if (x.port !== y.port) return false;
  return x.host === y.host || (LOOPBACK.has(x.host) && LOOPBACK.has(y.host));
}

/**
 * The runbooks a schedule (or any generic starter) can start: the name the CLI takes, the
 * workflow function, the input schema and the workflow id of a run. Adding a runbook is one entry.
 */
export interface StartableRunbook {
  runbook: RunbookName;
  workflow: Workflow;
  schema: z.ZodType<{ cluster: string }>;
  workflowId(input: { cluster: string } & Record<string, unknown>): string;
}

const startable = (
  runbook: RunbookName,
  workflow: Workflow,
  schema: z.ZodType<{ cluster: string }>,
  workflowId: StartableRunbook['workflowId'] = (i) => workflowIdFor(runbook, i.cluster),
): StartableRunbook => ({ runbook, workflow, schema, workflowId });

export const STARTABLE_RUNBOOKS: Record<string, StartableRunbook> = {
  planned: startable(RUNBOOKS.planned, plannedSuccessover, PlannedSuccessoverInputSchema),
  provision: startable(RUNBOOKS.provision, provisionReplica, ProvisionReplicaInputSchema, (i) =>
    provisionWorkflowId(i.cluster, String(i.host)),
  ),
  upgrade: startable(RUNBOOKS.upgrade, blueGreenUpgrade, BlueGreenUpgradeInputSchema),
};
