// The two reads every runbook's preflight starts with, as visible steps: the cluster's spec from
// the worker's inventory, and the topology as discovery reads it from the servers.
import { acts, call } from './activities';
import type { Runbook } from './runbook';

export async function loadAndDiscover(run: Runbook) {
  const { cluster } = run;
  const spec = await run.step('load cluster spec', undefined, () =>
    call(acts.loadClusterSpec, `load the spec of ${cluster}`, { cluster }),
  );
  const before = await run.step('discover', undefined, () =>
    call(acts.inspectCluster, `discover ${cluster}`, { cluster }),
  );
  return { spec, before };
}
