// The cluster lock under a race on a dead holder: many runbooks find the same closed holder at
// once. Each may end only the lock run it found dead (by run id); terminating by workflow id alone
// let a late acquirer end the fresh lock of an earlier one, and both believed they held it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createLockActivities } from '../../activities/lock';
import { lockWorkflowId, type LockHolder } from '../../workflows/api';
import { clusterLock } from '../../workflows';
import { withWorker } from './temporal';

const ROUNDS = 30;
const ACQUIRERS = 6;
const INVENTORY = join(__dirname, '..', 'fixtures', 'inventory.yaml');

/** A live run standing in for a runbook: what the lock checks a holder against. */
async function liveRun(client: Client, taskQueue: string, id: string) {
  return client.workflow.start(clusterLock, {
    taskQueue,
    workflowId: id,
    args: [{ cluster: 'stand-in', holder: { workflowId: id, runId: 'none', runbook: 'stand-in' } }],
  });
}

test(`${ACQUIRERS} acquirers racing on a dead holder, ${ROUNDS} rounds: never two holders`, async () => {
  // The worker only runs lock workflows here; its inventory's password is never used.
  const env = { ...process.env, SUCCESSOVER_TEST_MYSQL_PASSWORD: 'unused' };
  await withWorker(
    INVENTORY,
    async ({ client, taskQueue }) => {
      const lock = createLockActivities({ client, taskQueue });
      for (let round = 0; round < ROUNDS; round++) {
        const cluster = `race-${round}-${randomUUID().slice(0, 8)}`;
        // The dead holder: a lock naming a run that no longer exists.
        const dead: LockHolder = {
          workflowId: `gone-${round}`,
          runId: randomUUID(),
          runbook: 'planned-successover',
        };
        await client.workflow.start(clusterLock, {
          taskQueue,
          workflowId: lockWorkflowId(cluster),
          args: [{ cluster, holder: dead }],
          memo: { holder: dead },
        });
        const runs = await Promise.all(
          Array.from({ length: ACQUIRERS }, (_, i) => liveRun(client, taskQueue, `${cluster}-runbook-${i}`)),
        );
        const outcomes = await Promise.all(
          runs.map((r) =>
            new MockActivityEnvironment({
              workflowExecution: { workflowId: r.workflowId, runId: r.firstExecutionRunId },
            })
              .run(lock.acquireClusterLock, { cluster, runbook: 'planned-successover' })
              .then(
                (h) => ({ held: (h as LockHolder).workflowId }),
                (e: Error) => ({ refused: e.message }),
              ),
          ),
        );
        const held = outcomes.flatMap((o) => ('held' in o ? [o.held] : []));
        expect([round, held.length]).toEqual([round, 1]);
        const holder = (await client.workflow.getHandle(lockWorkflowId(cluster)).describe()).memo
          ?.holder as LockHolder;
        expect(holder.workflowId).toBe(held[0]);
        for (const o of outcomes)
          if ('refused' in o)
            expect(o.refused).toMatch(new RegExp(`locked by planned-successover ${held[0]} \\(run `));
        await Promise.all([
          ...runs.map((r) => r.terminate('round over')),
          client.workflow.getHandle(lockWorkflowId(cluster)).terminate('round over'),
        ]);
      }
    },
    { env },
  );
});
