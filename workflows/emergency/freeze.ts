// Step 4 of emergency recovery: freeze what the replicas received. Their IO threads stop, so a
// primary that is partitioned rather than dead cannot advance them between the read the decision
// rests on and the promotion (Vitess stops replication on every replica first). It is the run's
// first change: a refusal or an abort before the fence starts them again (thaw).
import { CancellationScope } from '@temporalio/workflow';
import type { InspectResult } from '../../domain/topology';
import { acts, call } from '../activities';
import type { Runbook } from '../runbook';
import { replicasOf } from './nodes';

/** Stops the IO thread of every reachable replica of `primary`; returns their names. */
export async function freezeReplicas(run: Runbook, primary: string, seen: InspectResult): Promise<string[]> {
  const { cluster } = run;
  const frozen = replicasOf(seen, primary)
    .filter((n) => n.reachable)
    .map((n) => n.name);
  await Promise.all(
    frozen.map((host) =>
      run.step('stop receiving', host, () =>
        call(acts.stopReceiving, `${host} stops receiving from ${primary}`, { cluster, host }),
      ),
    ),
  );
  return frozen;
}

/** Undoes freezeReplicas, also when the run is being cancelled. */
export async function thawReplicas(run: Runbook, frozen: string[]): Promise<void> {
  const { cluster } = run;
  await CancellationScope.nonCancellable(() =>
    Promise.all(
      frozen.map((host) =>
        run.step('start receiving', host, () =>
          call(acts.startReceiving, `${host} receives again`, { cluster, host }),
        ),
      ),
    ),
  );
}
