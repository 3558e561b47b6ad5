// The built-in detector's start: one detector per cluster (id detector/<cluster>) with conflict
// policy "use existing", so the CLI, a restarted worker and a second worker all start it at most
// once and a repeated start is harmless.
import type { Client } from '@temporalio/client';
import type { Inventory } from '../domain/inventory';
import { detectorId, runSearchAttributes, SUPPORT_WORKFLOWS } from '../workflows/api';
// Started by its function (the client sends its name); none of its code runs here.
import { detector, type DetectorInput } from '../workflows/detector';

export interface StartedDetector {
  workflowId: string;
  runId: string;
  /** False when the detector was already running. */
  started: boolean;
}

export async function startDetector(
  client: Client,
  taskQueue: string,
  input: DetectorInput,
): Promise<StartedDetector> {
  const workflowId = detectorId(input.cluster);
  const before = await runningRunId(client, workflowId);
  const handle = await client.workflow.start(detector, {
    workflowId,
    taskQueue,
    args: [input],
    typedSearchAttributes: runSearchAttributes(input.cluster, SUPPORT_WORKFLOWS.detector),
    staticSummary: `detector of ${input.cluster}: probes its primary, starts emergency recovery on failure`,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  // With "use existing" the server answers with the running run: one that ran before the call
  // means this start joined it.
  return { workflowId, runId: handle.firstExecutionRunId, started: before !== handle.firstExecutionRunId };
}

/** The run id of the running execution of workflowId, or null when none runs. */
export async function runningRunId(client: Client, workflowId: string): Promise<string | null> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => (d.status.name === 'RUNNING' ? d.runId : null))
    .catch(() => null);
}

/** Starts the detector of every cluster whose policy has detector.enabled (the worker at start). */
export async function ensureDetectors(
  client: Client,
  inventory: Inventory,
  taskQueue: string,
): Promise<StartedDetector[]> {
  const enabled = inventory.clusters.filter((c) => c.policy.detector.enabled);
  return Promise.all(enabled.map((c) => startDetector(client, taskQueue, { cluster: c.name })));
}
