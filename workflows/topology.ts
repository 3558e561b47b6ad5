// The cluster as it is now: who replicates from whom, read-only flags, lag, GTIDs, traffic.
// A workflow so it can be started from the UI; it changes nothing.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { InspectResult } from '../domain/topology';
import { RUNBOOKS } from '../domain/runbook';
import { acts, call } from './activities';
import { runSearchAttributes } from './api';

export async function topology({ cluster }: { cluster: string }): Promise<InspectResult> {
  upsertSearchAttributes(runSearchAttributes(cluster, RUNBOOKS.topology));
  return call(acts.inspectCluster, `discover ${cluster}`, { cluster });
}
