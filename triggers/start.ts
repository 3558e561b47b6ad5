// Starting an emergency recovery from a trigger (webhook, detector, CLI). Every trigger uses the
// one workflow id per cluster with conflict policy "use existing": a repeated or duplicate alert
// joins the run under way instead of starting a second recovery.
import type { Client } from '@temporalio/client';
import {
  EmergencyRecoveryInputSchema,
  parseInput,
  RUNBOOKS,
  type EmergencyRecoveryInput,
  type StartedRecovery,
} from '../domain/runbook';
import { runSearchAttributes, workflowIdFor } from '../workflows/api';
// Started by its function (the client sends its name); none of its code runs here.
import { emergencyRecovery } from '../workflows/emergencyRecovery';

export type { StartedRecovery };

export async function startEmergencyRecovery(
  client: Client,
  taskQueue: string,
  raw: EmergencyRecoveryInput,
): Promise<StartedRecovery> {
  const input = parseInput(EmergencyRecoveryInputSchema, RUNBOOKS.emergency, raw);
  const workflowId = workflowIdFor(RUNBOOKS.emergency, input.cluster);
  const before = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => (d.status.name === 'RUNNING' ? d.runId : null))
    .catch(() => null);
  const handle = await client.workflow.start(emergencyRecovery, {
    workflowId,
    taskQueue,
    args: [input],
    typedSearchAttributes: runSearchAttributes(input.cluster, RUNBOOKS.emergency),
    staticSummary: `emergency recovery of ${input.cluster} (${input.source.kind}${
      input.source.system ? ` ${input.source.system}` : ''
    }${input.reason ? `: ${input.reason.slice(0, 120)}` : ''})`,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  // With "use existing" the server answers with the running run. The SDK does not say whether it
  // started one, so a run already running before the call means this trigger joined it (two
  // concurrent first alerts may both say "started": still one run).
  const runId = handle.firstExecutionRunId;
  return { workflowId, runId, started: before !== runId };
}
