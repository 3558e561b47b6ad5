// Emergency recovery on a netns lab with semi-sync, where failures pile up.
// The preferred candidate is behind another replica when the primary dies (its IO thread was cut
// off for a second while db3 kept receiving, semi-sync acknowledging through db3 alone): the
// recovery brings it level from db3 before promoting it, so db3 stays a healthy replica and no
// acknowledged write is lost. A promotion behind db3 broke db3's replication on a fresh clone.
import { lostThrough, sleep } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import type { CatchUpPlan } from '../../domain/emergency';
import { workflowIdFor } from '../../workflows/api';
import { readFileSync } from 'node:fs';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { labKill, labStart, labStatus } from '../../lab/index';
import { successoverOptionFile, writeOptionFile } from '../../lab/mariadb';
import { requireState } from '../../lab/state';
import { emergencyRecovery } from '../../workflows';
import { inventoryVariant } from './inventoryVariant';
import { rootConnection, slaveStatus, startLab, type LabFixture } from './labFixture';
import { endFenceWatches, withWorker } from './temporal';

let lab: LabFixture;
let writer: Writer | undefined;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3, semiSync: true });
});
afterAll(async () => {
  await writer?.stop();
  await endFenceWatches(['db1']);
  await lab?.down();
});

async function onHost(host: string, sql: string) {
  const c = await rootConnection(lab.info, host);
  try {
    await c.query(sql);
  } finally {
    c.destroy();
  }
}

test('a preferred candidate behind db3 is caught up from db3 before it is promoted', async () => {
  const { info } = lab;
  writer = Writer.forLab(info);
  await writer.start();
  await sleep(1000);
  await onHost('db2', 'STOP SLAVE IO_THREAD');
  await sleep(1000);
  await labKill('db1', { dir: lab.dir });
  const killedAt = Date.now();
  await onHost('db2', 'START SLAVE IO_THREAD');

  const preferDb2 = inventoryVariant(info.inventory, 'prefer-db2', (c) => {
    c.hosts.find((h) => h.name === 'db2')!.promotion = 'prefer';
  });
  await withWorker(preferDb2, async ({ client, taskQueue }) => {
    const r = await client.workflow.execute(emergencyRecovery, {
      taskQueue,
      workflowId: workflowIdFor('emergency-recovery', 'lab'),
      args: [{ cluster: 'lab', probeIntervalMs: 200, reason: 'db1 killed behind db2' }],
    });
    expect([r.outcome, r.newPrimary]).toEqual(['recovered', 'db2']);
    const plan = r.catchUp as CatchUpPlan;
    expect(plan.steps).toContainEqual(expect.objectContaining({ kind: 'replicate-from', source: 'db3' }));
    expect(plan.lacking).toEqual([]);
  });

  const s = await labStatus({ dir: lab.dir });
  expect(s.vipHolders).toEqual(['db2']);
  const resumed = () => writer!.acked.some((a) => a.at > killedAt);
  for (let i = 0; i < 100 && !resumed(); i++) await sleep(100);
  expect(resumed()).toBe(true);
  await sleep(1000); // db3 now streams db2's new writes: its IO thread would fail here if behind
  const db2 = info.hosts.find((h) => h.name === 'db2')!.address;
  const st = await slaveStatus(info, 'db3');
  expect([st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running, st?.Last_IO_Error]).toEqual([
    db2,
    'Yes',
    'Yes',
    '',
  ]);
  await writer.stop();
  expect(await lostThrough(info, 'db2', writer)).toEqual([]);
  writer = undefined;
});

test('the old primary restarted with a configuration that does not say read_only is never writable', async () => {
  // As many real servers restart after a crash: their option file says nothing of read_only. The
  // fence wrote read_only=ON to the host's optionFile (its mariadbd was dead, its SSH was not).
  const config = requireState(lab.dir).servers.db1.config;
  writeOptionFile(config, { readOnly: false });
  expect(readFileSync(successoverOptionFile(config), 'utf8')).toMatch(/^read_only=ON$/m);
  const socket = lab.info.hosts.find((h) => h.name === 'db1')!.socket;
  const seen: unknown[] = [];
  const starting = labStart('db1', { dir: lab.dir });
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const c = await createConnection({ socketPath: socket, user: 'root', connectTimeout: 200 }).catch(
      () => null,
    );
    if (c) {
      try {
        const [rows] = await c.query<RowDataPacket[]>('SELECT @@global.read_only AS ro');
        seen.push(rows[0].ro);
      } finally {
        c.destroy();
      }
    }
    await sleep(50);
  }
  await starting;
  expect(seen.length).toBeGreaterThan(100);
  expect(seen.filter((ro) => ro !== 1)).toEqual([]);
});
