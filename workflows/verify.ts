// Step 11 of every runbook: the invariants, read back from the servers. Replicas that were just
// repointed may still be connecting, so the check is repeated briefly before it counts as failed.
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import { invariantReport } from '../domain/invariants';
import { acts, call } from './activities';
import { FailureType } from './api';
import type { Runbook } from './runbook';

export async function verifyInvariants(
  run: Runbook,
  cluster: string,
  primary: string,
  excluded: string[] = [],
  /** A master-master pair's standby: the writer must replicate from it. */
  pairedWith?: string,
) {
  let notes: string[] = [];
  return run.step(
    'verify invariants',
    primary,
    async () => {
      let violations: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const seen = await call(acts.inspectCluster, `verify ${cluster}`, { cluster });
        ({ violations, notes } = invariantReport({
          topology: seen.topology,
          primary,
          trafficHolders: seen.trafficHolders,
          excluded,
          ...(pairedWith !== undefined ? { pairedWith } : {}),
        }));
        if (violations.length === 0) return seen;
        await sleep(500);
      }
      throw ApplicationFailure.create({
        type: FailureType.InvariantViolated,
        message: `after the run on ${cluster}: ${violations.join('; ')}`,
        nonRetryable: true,
      });
    },
    // Unprovisioned nodes need not replicate, but the timeline says they are there.
    () => notes.join('; '),
  );
}
