// The two reads every runbook's preflight starts with, as visible steps: the cluster's spec from
// the worker's inventory, and the topology as discovery reads it from the servers.
import { acts, call, callLocal, localActs } from './activities';
import type { Runbook } from './runbook';

export async function loadAndDiscover(run: Runbook) {
  const { cluster } = run;
  // A local activity: the worker's own inventory, no task-queue round trip (~60 ms on the lab).
  const spec = await run.step('load cluster spec', undefined, () =>
    callLocal(localActs.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
  );
  const before = await run.step('discover', undefined, () =>
    call(acts.inspectCluster, `discover ${cluster}`, { cluster }),
  );
  return { spec, before };
}
