// What a refused planned successover must leave untouched, and the helpers that start one on a
// lab. Shared by the planned-successover test files.
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { failureReason } from '../../cli/runbooks';
import { labStatus, type LabInfo } from '../../lab/index';
import type { PlannedSuccessoverInput } from '../../domain/runbook';
import { workflowIdFor } from '../../workflows/api';
import { plannedSuccessover } from '../../workflows';
import { slaveStatus, type LabFixture } from './labFixture';

/**
 * Every node's read_only, source, replication threads and delay, and the VIP (or HAProxy writer)
 * holders, read from the servers and the kernel, not through the code under test.
 */
export async function clusterSnapshot(lab: LabFixture) {
  const s = await labStatus({ dir: lab.dir });
  return {
    vip: s.vipHolders,
    nodes: await Promise.all(
      s.hosts.map(async (h) => {
        const st = await slaveStatus(lab.info, h.name);
        return {
          name: h.name,
          readOnly: h.readOnly,
          source: st ? `${st.Master_Host}:${st.Master_Port}` : null,
          usingGtid: st?.Using_Gtid ?? null,
          delay: st?.SQL_Delay ?? null,
          io: h.ioRunning,
          sql: h.sqlRunning,
        };
      }),
    ),
  };
}

/** Runs the planned successover on the lab cluster from the test's worker and waits for it. */
export async function planned(client: Client, taskQueue: string, input: PlannedSuccessoverInput) {
  return client.workflow.execute(plannedSuccessover, {
    taskQueue,
    workflowId: workflowIdFor('planned-successover', 'lab'),
    args: [input],
    searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
  });
}

/** The type and message of the failure a run that must fail ends with. */
export async function failedRun(
  client: Client,
  taskQueue: string,
  input: PlannedSuccessoverInput,
): Promise<{ type?: string; message: string }> {
  try {
    await planned(client, taskQueue, input);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    return failureReason(e);
  }
  throw new Error('expected the run to fail');
}

/** The message of a run that must fail. */
export async function refusal(client: Client, taskQueue: string, input: PlannedSuccessoverInput) {
  return (await failedRun(client, taskQueue, input)).message;
}

/**
 * `primary` is the one writable node and holds the VIP (or writer); every other node of `info`
 * (the lab's, or with hosts added since) replicates from it with both threads running, except
 * the `unprovisioned` ones (read-only, replicating from no one).
 */
export async function expectHealthy(
  lab: Pick<LabFixture, 'dir' | 'info'>,
  primary: string,
  o: { info?: LabInfo; unprovisioned?: string[] } = {},
): Promise<void> {
  const info = o.info ?? lab.info;
  const s = await labStatus({ dir: lab.dir });
  expect(s.vipHolders).toEqual([primary]);
  expect(s.hosts.filter((h) => h.readOnly === false).map((h) => h.name)).toEqual([primary]);
  const address = info.hosts.find((x) => x.name === primary)?.address;
  for (const h of s.hosts) {
    if (h.name === primary) continue;
    const st = await slaveStatus(info, h.name);
    const expected = o.unprovisioned?.includes(h.name)
      ? [undefined, undefined, undefined]
      : [address, 'Yes', 'Yes'];
    expect([h.name, st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
      h.name,
      ...expected,
    ]);
  }
}
