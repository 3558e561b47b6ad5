// Step 4 of emergency recovery: freeze what the replicas received. Their IO threads stop, so a
// primary that is partitioned rather than dead cannot advance them between the read the decision
// rests on and the promotion (Vitess stops replication on every replica first). It is the run's
// first change: a refusal or an abort before the fence starts them again (thaw).
import { CancellationScope } from '@temporalio/workflow';
import type { InspectResult } from '../../domain/topology';
import { acts, call } from '../activities';
import type { Runbook } from '../runbook';
import { replicasOf } from './nodes';

/**
 * Stops the IO thread of every reachable replica of `primary`, then reads the positions the
 * decision rests on. Since patch emergency-freeze-and-read (`atOnce`), in one step: `onFreeze`
 * hears the replicas before it starts, so a run that fails part way still thaws them (starting
 * an IO thread is idempotent).
 */
export async function freezeAndRead(
  run: Runbook,
  primary: string,
  seen: InspectResult,
  { atOnce, onFreeze }: { atOnce: boolean; onFreeze: (replicas: string[]) => void },
): Promise<InspectResult> {
  const { cluster } = run;
  const replicas = replicasOf(seen, primary)
    .filter((n) => n.reachable)
    .map((n) => n.name);
  if (atOnce) {
    onFreeze(replicas);
    return run.step(
      'stop receiving',
      undefined,
      () =>
        call(acts.inspectCluster, `freeze ${cluster}, then discover it`, {
          cluster,
          traffic: false,
          freeze: replicas,
        }),
      () => `IO threads of ${replicas.join(', ') || 'no replica'} stopped, then the positions read`,
    );
  }
  await Promise.all(
    replicas.map((host) =>
      run.step('stop receiving', host, () =>
        call(acts.stopReceiving, `${host} stops receiving from ${primary}`, { cluster, host }),
      ),
    ),
  );
  onFreeze(replicas);
  return run.step('read positions', undefined, () =>
    call(acts.inspectCluster, `discover ${cluster}`, { cluster, traffic: false }),
  );
}

/** Undoes freezeAndRead, also when the run is being cancelled. */
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
