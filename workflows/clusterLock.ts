// One runbook per cluster at a time, whatever started it. The lock is a workflow with the id
// cluster-lock/<cluster>: Temporal allows one running execution per id, so starting it is an
// atomic test-and-set. It ends when its holder releases it (or, if the holder ended without
// releasing, when the next acquirer finds the holder closed and terminates it).
import { condition, setHandler, setCurrentDetails } from '@temporalio/workflow';
import { holderQuery, releaseSignal, type LockHolder } from './api';

export async function clusterLock(input: { cluster: string; holder: LockHolder }): Promise<LockHolder> {
  let released = false;
  setHandler(holderQuery, () => input.holder);
  setHandler(releaseSignal, ({ runId }) => {
    if (runId === input.holder.runId) released = true;
  });
  setCurrentDetails(`held by ${input.holder.runbook} ${input.holder.workflowId} (run ${input.holder.runId})`);
  await condition(() => released);
  return input.holder;
}
