// Acquire and release the per-cluster lock (workflows/clusterLock.ts) on behalf of the runbook
// that calls the activity. Both are idempotent: a retried acquire by the same run succeeds.
import { Context } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import {
  FailureType,
  lockWorkflowId,
  preemptUpdate,
  releaseSignal,
  runSearchAttributes,
  SUPPORT_WORKFLOWS,
  type LockHolder,
  type PreemptRequest,
} from '../workflows/api';
// The client takes the workflow's name from the function; no workflow code runs here.
import { clusterLock } from '../workflows/clusterLock';
import { nonRetryable } from './errors';

export interface LockDeps {
  client: Client;
  taskQueue: string;
}

export function createLockActivities({ client, taskQueue }: LockDeps) {
  const self = (runbook: string): LockHolder => {
    const run = Context.current().info.workflowExecution;
    if (!run)
      throw nonRetryable(
        FailureType.BadConfiguration,
        'the cluster lock is taken by a runbook workflow only',
      );
    return { workflowId: run.workflowId, runId: run.runId, runbook };
  };

  return {
    async acquireClusterLock({
      cluster,
      runbook,
    }: {
      cluster: string;
      runbook: string;
    }): Promise<LockHolder> {
      const holder = self(runbook);
      const workflowId = lockWorkflowId(cluster);
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await client.workflow.start(clusterLock, {
            workflowId,
            taskQueue,
            args: [{ cluster, holder }],
            memo: { holder },
            typedSearchAttributes: runSearchAttributes(cluster, SUPPORT_WORKFLOWS.clusterLock),
            staticSummary: `lock of ${cluster} held by ${holder.workflowId}`,
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          });
          return holder;
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        }
        let current: LockHolder;
        let lockRunId: string;
        try {
          const d = await client.workflow.getHandle(workflowId).describe();
          current = d.memo?.holder as LockHolder;
          lockRunId = d.runId;
        } catch (e) {
          if (e instanceof WorkflowNotFoundError) continue; // released meanwhile
          throw e;
        }
        if (current.runId === holder.runId) return holder; // our own retry
        const status = await client.workflow
          .getHandle(current.workflowId, current.runId)
          .describe()
          .then((d) => d.status.name)
          .catch((e: unknown) => (e instanceof WorkflowNotFoundError ? 'NOT_FOUND' : Promise.reject(e)));
        if (status === 'RUNNING')
          throw nonRetryable(
            FailureType.Refused,
            `cluster ${cluster} is locked by ${current.runbook} ${current.workflowId} (run ${current.runId}): one runbook per cluster at a time; wait for it or cancel it`,
            { holder: current },
          );
        // Only the lock run found dead: another acquirer may have replaced it with a fresh one
        // since, and terminating by id alone would end that one too (two holders).
        await client.workflow
          .getHandle(workflowId, lockRunId)
          .terminate(
            `holder ${current.workflowId} (run ${current.runId}) ended (${status}) without releasing`,
          )
          .catch((e: unknown) => (e instanceof WorkflowNotFoundError ? undefined : Promise.reject(e)));
      }
      throw nonRetryable(
        FailureType.Refused,
        `cluster ${cluster}: could not take the lock after 3 attempts; try again`,
      );
    },

    /**
     * Asks the run holding the cluster's lock to step aside (the `preempt` update). Returns what
     * happened, in words for the asker's progress: stepping aside, or why it keeps the lock.
     */
    async preemptLockHolder({ cluster, by, reason }: PreemptRequest & { cluster: string }): Promise<string> {
      let holder: LockHolder;
      try {
        holder = (await client.workflow.getHandle(lockWorkflowId(cluster)).describe()).memo
          ?.holder as LockHolder;
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return 'the lock was released meanwhile';
        throw e;
      }
      const who = `${holder.runbook} ${holder.workflowId} (run ${holder.runId})`;
      try {
        const answer = await client.workflow
          .getHandle(holder.workflowId, holder.runId)
          .executeUpdate(preemptUpdate, { args: [{ by, reason }] });
        return `${who}: ${answer}`;
      } catch (e) {
        // A retried attempt (the first one's answer lost) finds the holder already ended.
        const ended = await client.workflow
          .getHandle(holder.workflowId, holder.runId)
          .describe()
          .then((d) => (d.status.name === 'RUNNING' ? null : d.status.name))
          .catch(() => null);
        if (ended) return `${who} ended (${ended})`;
        const why = e instanceof WorkflowUpdateFailedError ? (e.cause?.message ?? e.message) : errorText(e);
        return `${who} keeps the lock (${why})`;
      }
    },

    async releaseClusterLock({ cluster }: { cluster: string }): Promise<void> {
      const { runId } = self('release');
      try {
        await client.workflow.getHandle(lockWorkflowId(cluster)).signal(releaseSignal, { runId });
      } catch (e) {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      }
    },
  };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
