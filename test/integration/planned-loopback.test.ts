// The same runbook with the other traffic router: loopback lab, HAProxy runtime API as the
// writer switch, no root features (namespaces, VIP, sshd).
import { Writer } from '../../bench/writer';
import { labStatus } from '../../lab/index';
import { workflowIdFor } from '../../workflows/api';
import { plannedSuccessover } from '../../workflows';
import { appConnection, rootConnection, slaveStatus, startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'loopback', hosts: 3 });
});
afterAll(async () => {
  await lab?.down();
});

test('planned successover through HAProxy: writer moves, no acknowledged write lost', async () => {
  const { info } = lab;
  await withWorker(info.inventory, async ({ client, taskQueue }) => {
    const w = Writer.forLab(info);
    await w.start();
    let r;
    try {
      await new Promise((res) => setTimeout(res, 300));
      r = await client.workflow.execute(plannedSuccessover, {
        taskQueue,
        workflowId: workflowIdFor('planned-successover', 'lab'),
        args: [{ cluster: 'lab', target: 'db3' }],
      });
      await new Promise((res) => setTimeout(res, 300));
    } finally {
      await w.stop();
    }
    console.log(
      `loopback/HAProxy successover: blackout ${r.blackoutMs} ms, longest client gap ${w.maxGapMs()} ms`,
    );
    expect(r.blackoutMs).toBeLessThan(5000);
    const s = await labStatus({ dir: lab.dir });
    expect(s.hosts.map((h) => [h.name, h.readOnly])).toEqual([
      ['db1', true],
      ['db2', true],
      ['db3', false],
    ]);
    for (const h of ['db1', 'db2']) {
      const st = await slaveStatus(info, h);
      expect(st?.Master_Port).toBe(info.hosts[2].port);
      expect([st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
    }
    // The writer endpoint now reaches db3.
    const app = await appConnection(info);
    try {
      const [rows] = await app.query('SELECT @@server_id AS id');
      expect((rows as { id: number }[])[0].id).toBe(3);
    } finally {
      app.destroy();
    }
    expect(w.acked.length).toBeGreaterThan(50);
    const c = await rootConnection(info, 'db3');
    try {
      expect(await w.lost(c)).toEqual([]);
    } finally {
      c.destroy();
    }
  });
});
