// Starting a runbook from the CLI: the same workflow ids, search attributes and task queue as
// the UI and schedules use, so the one-runbook-per-cluster rule holds whatever starts it.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowIdFor, type RunbookName } from '../domain/runbook';
import { temporalConfig } from '../temporal/connection';
import { DEFAULT_TASK_QUEUE } from '../worker/index';

export interface StartedRun<R> {
  workflowId: string;
  runId: string;
  result: Promise<R>;
}

export async function startRunbook<R>(
  client: Client,
  opts: {
    runbook: RunbookName;
    workflow: string;
    cluster: string;
    input: unknown;
    summary: string;
    taskQueue?: string;
  },
): Promise<StartedRun<R>> {
  const workflowId = workflowIdFor(opts.runbook, opts.cluster);
  try {
    const handle = await client.workflow.start(opts.workflow, {
      workflowId,
      taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [opts.input],
      searchAttributes: { Cluster: [opts.cluster], Runbook: [opts.runbook] },
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

export function uiLink(workflowId: string, runId: string, env: NodeJS.ProcessEnv = process.env): string {
  const ui = env.SUCCESSOVER_UI_URL ?? 'http://localhost:8233';
  const ns = temporalConfig(env).namespace;
  return `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
