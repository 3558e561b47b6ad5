// A planned successover that fails after its point of no return (the target promoted, the writer
// traffic not moved yet) says what is done and what is not, and the same request started again
// finishes it: traffic to the target, the old primary and the other replica repointed.
import { failureReason } from '../../cli/runbooks';
import { labStatus } from '../../lab/index';
import { plannedSuccessover } from '../../workflows';
import { workflowIdFor } from '../../workflows/api';
import { slaveStatus, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  delete process.env.SUCCESSOVER_FAILPOINTS;
  await lab?.down();
});

const writable = async () =>
  (await labStatus({ dir: lab.dir })).hosts.filter((h) => h.up && h.readOnly === false).map((h) => h.name);

test('failed right after the promotion: the state is named; the same request again finishes it', async () => {
  await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
    const run = () =>
      client.workflow.execute(plannedSuccessover, {
        taskQueue,
        workflowId: workflowIdFor('planned-successover', 'lab'),
        args: [{ cluster: 'lab', target: 'db2' }],
      });
    process.env.SUCCESSOVER_FAILPOINTS = 'critical:promote=fail';
    const failed = await run().then(
      () => null,
      (e: unknown) => failureReason(e),
    );
    delete process.env.SUCCESSOVER_FAILPOINTS;
    expect(failed?.type).toBe('Unfinished');
    expect(failed?.message).toMatch(
      /failed after its point of no return \(.*failpoint critical:promote.*\): db2 promoted and writable; db2 still replicates from db1; writer traffic on db2 but still on db1; db1 not repointed \(replicates from no one\); db3 not repointed \(replicates from db1\); start it again with target db2 to finish it/,
    );
    // The VIP went to db2 before its promotion and was not yet taken off db1 (read-only).
    expect((await labStatus({ dir: lab.dir })).vipHolders).toEqual(['db1', 'db2']);
    expect(await writable()).toEqual(['db2']); // never two writers, even half switched

    const r = await run();
    expect(r.warnings[0]).toMatch(/^finished an earlier successover to db2/);
    expect(r.timeline.map((s) => s.step)).not.toContain('promote');
    const s = await labStatus({ dir: lab.dir });
    expect(s.vipHolders).toEqual(['db2']);
    expect(await writable()).toEqual(['db2']);
    // The new primary forgot its old source: not a pair nobody built.
    expect(await slaveStatus(lab.info, 'db2')).toBeUndefined();
    const db2 = lab.info.hosts.find((h) => h.name === 'db2')!.address;
    for (const host of ['db1', 'db3']) {
      const st = await slaveStatus(lab.info, host);
      expect([host, st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
        host,
        db2,
        'Yes',
        'Yes',
      ]);
    }
  });
});
