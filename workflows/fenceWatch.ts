// After an emergency recovery the old primary is left fenced; when it could not be reached, this
// keeps trying: the moment it answers again it is made read-only and loses the traffic, and its
// transactions the new primary lacks are reported (never applied: a human compensates). With
// policy.rejoin auto, a node that holds nothing more is then rejoined (workflows/rejoin.ts).
// Its own workflow id (fenceWatchId in ./api), so a new alert on the cluster starts a new recovery instead of joining it.
import { continueAsNew, executeChild, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { FenceReport } from '../domain/emergency/fence';
import { lostTransactions, type LostReport } from '../domain/emergency';
import { gtidOps } from '../domain/gtid';
import type { Flavor } from '../domain/inventory';
import { RUNBOOKS } from '../domain/runbook';
import { acts, call } from './activities';
import { runSearchAttributes, SUPPORT_WORKFLOWS, workflowIdFor } from './api';
import { rejoin } from './rejoin';
import { failureMessage } from './runbook';

export interface FenceWatchInput {
  cluster: string;
  flavor: Flavor;
  host: string;
  newPrimary: string;
  intervalSeconds: number;
  /** Give up after this long (the host may be gone for good). */
  untilIso: string;
  /** policy.rejoin auto: once fenced and holding nothing the new primary lacks, rejoin it. */
  rejoin?: boolean;
}

export interface FenceWatchResult {
  fence: FenceReport | null;
  lost: LostReport;
  /** What the rejoin did (policy.rejoin auto), or why it did not run. */
  rejoin?: string;
}

const ROUNDS_PER_RUN = 300;
const REJOIN_LOCK_WAIT_SECONDS = 600;

export async function fenceWatch(input: FenceWatchInput): Promise<FenceWatchResult> {
  const { cluster, host, newPrimary } = input;
  upsertSearchAttributes(runSearchAttributes(cluster, SUPPORT_WORKFLOWS.fenceWatch));
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    if (Date.now() >= Date.parse(input.untilIso))
      return {
        fence: null,
        lost: {
          known: false,
          summary: `${host} did not answer before ${input.untilIso}: nothing more is known`,
        },
      };
    const fence = await call(acts.fenceOldPrimary, `fence ${host} if it answers`, { cluster, host });
    if (fence.readOnly.status === 'done' && fence.traffic.status !== 'failed') {
      // The old primary first: it may already replicate from the new one (a pair's side restarts
      // with its source), and read after it, what it received would look like its own.
      const old = await call(acts.gtidPosition, `GTID state of ${host}`, { cluster, host });
      const now = await call(acts.gtidPosition, `GTID state of ${newPrimary}`, { cluster, host: newPrimary });
      const lost = lostTransactions({
        gtid: gtidOps(input.flavor),
        oldPrimary: host,
        oldPrimaryHistory: old.binlogState ?? old.current,
        newPrimary,
        newPrimaryHistory: now.binlogState ?? now.current,
      });
      if (!input.rejoin) return { fence, lost };
      if (!lost.known || lost.lost) return { fence, lost, rejoin: `not rejoined: ${lost.summary}` };
      // The rejoin is a runbook of its own: it takes the lock and checks everything again.
      const rejoined = await executeChild(rejoin, {
        workflowId: `${workflowIdFor(RUNBOOKS.rejoin, cluster)}/${host}`,
        // The recovery that started this watch may still hold the lock: wait for it to end.
        args: [{ cluster, host, lockWaitSeconds: REJOIN_LOCK_WAIT_SECONDS }],
        staticSummary: `rejoin ${host} to ${newPrimary} (policy.rejoin auto)`,
      })
        .then((r) => `${host} rejoined ${r.primary}${r.pair ? ' as its master-master standby' : ''}`)
        .catch((e: unknown) => `rejoin of ${host} failed: ${failureMessage(e)}`);
      return { fence, lost, rejoin: rejoined };
    }
    await sleep(input.intervalSeconds * 1000);
  }
  return continueAsNew<typeof fenceWatch>(input);
}
