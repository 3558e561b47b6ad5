// Replica provisioning on a real netns lab under write load: a fourth, empty host (`lab add-host`)
// is left alone by planned successovers while it is empty, then provisioned logically from a
// replica while the application writes; refusals leave their target as it was; a worker killed mid-copy (after the copy heartbeated bytes) leaves a
// half-restored server that is no replica, and a fresh worker completes the run with checksums
// equal. Workers run as separate processes so a test can SIGKILL one as a crash would.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import type { Writer } from '../../bench/writer';
import { failureReason } from '../../cli/runbooks';
import type { ProvisionReplicaInput, ProvisionReplicaResult } from '../../domain/runbook';
import { findCluster } from '../../domain/inventory';
import { labAddHost } from '../../lab/index';
import { loadInventory } from '../../worker/loadInventory';
import type { LabHost } from '../../lab/types';
import { plannedSuccessover, provisionReplica } from '../../workflows';
import { provisionWorkflowId, workflowIdFor } from '../../workflows/api';
import { query, slaveStatus, startLab, type LabFixture } from './labFixture';
import { testClient } from './temporal';
import {
  labWriter,
  releaseDeadWorker,
  startWorkerProcess,
  tearDownAfterTests,
  labWorkerOptions,
  startedAttempt,
} from './workerProcess';

/** Rows of ~1 kB in app.big: enough that the copy streams for seconds, so a kill lands inside it. */
const BIG_ROWS = 150_000;

let lab: LabFixture;
let logDir: string;
let writer: Writer | undefined;
let db4: LabHost;

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'successover-provision-'));
  lab = await startLab({ mode: 'netns', hosts: 3 });
  // Data that does not change (app.big, compared directly below) next to the writer's table.
  await query(
    lab.info,
    'db1',
    'CREATE TABLE app.big (id INT PRIMARY KEY, pad VARCHAR(1000) NOT NULL, n BIGINT NOT NULL)',
  );
  for (let from = 1; from <= BIG_ROWS; from += 25_000)
    await query(
      lab.info,
      'db1',
      `INSERT INTO app.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 900), seq * 7 FROM app.seq_${from}_to_${Math.min(from + 24_999, BIG_ROWS)}`,
    );
  writer = await labWriter(lab);
  await writer.start();
  db4 = await labAddHost('db4', { dir: lab.dir });
  addedSockets.set('db4', db4.socket);
  await settled();
});
tearDownAfterTests(() => ({ writer, lab, logDir }));

/** Hosts added after labUp (db4, db5) are not in lab.info: their own sockets. */
const addedSockets = new Map<string, string>();
async function onAdded(host: string, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  const c = await createConnection({
    socketPath: addedSockets.get(host),
    user: 'root',
    connectTimeout: 2000,
  });
  try {
    const [rows] = await c.query<RowDataPacket[]>(sql, values);
    return rows;
  } finally {
    c.destroy();
  }
}

const onDb4 = (sql: string, values: unknown[] = []) => onAdded('db4', sql, values);
const on = (host: string, sql: string) =>
  addedSockets.has(host) ? onAdded(host, sql) : query(lab.info, host, sql);

async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until)
      throw new Error(`${typeof what === 'string' ? what : what()}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** db2 and db3 have applied what db1 had when asked, and their threads run. */
async function settled(): Promise<void> {
  const [p] = await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS pos');
  for (const h of ['db2', 'db3']) {
    const [w] = await query(lab.info, h, 'SELECT MASTER_GTID_WAIT(?, 120) AS r', [p.pos]);
    expect([h, Number(w.r)]).toEqual([h, 0]);
  }
}

/** What a refusal must leave as it was: replication, schemas, GTID state, and no marker. */
async function hostState(host: string) {
  const st = (await on(host, 'SHOW SLAVE STATUS'))[0];
  const [g] = await on(host, 'SELECT @@gtid_current_pos AS cur, @@gtid_binlog_pos AS bin, @@datadir AS dir');
  const schemas = (await on(host, 'SHOW DATABASES')).map((r) => String(Object.values(r)[0])).sort();
  return {
    source: st ? `${st.Master_Host} ${st.Slave_IO_Running}/${st.Slave_SQL_Running}` : null,
    schemas,
    // A replica's position moves under write load; an empty host's must not move at all.
    gtid: st ? 'replica' : `${g.cur}|${g.bin}`,
    marker: existsSync(`${String(g.dir).replace(/\/+$/, '')}.successover`),
  };
}

const workerOptions = (taskQueue: string) => labWorkerOptions(lab, logDir, taskQueue);

async function start(
  client: Client,
  taskQueue: string,
  input: Omit<ProvisionReplicaInput, 'cluster'>,
): Promise<WorkflowHandle<typeof provisionReplica>> {
  return client.workflow.start(provisionReplica, {
    taskQueue,
    workflowId: provisionWorkflowId('lab', input.host),
    args: [{ cluster: 'lab', catchUpTimeoutSeconds: 300, ...input }],
    searchAttributes: { Cluster: ['lab'], Runbook: ['provision-replica'] },
    // A client option: a workflow task a killed worker held times out sooner.
    workflowTaskTimeout: '2 seconds',
  });
}

async function refusal(client: Client, taskQueue: string, input: Omit<ProvisionReplicaInput, 'cluster'>) {
  try {
    await (await start(client, taskQueue, input)).result();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    return failureReason(e);
  }
  throw new Error('expected a refusal');
}

/** The new replica: IO and SQL threads of db4 running from db1, no marker left. */
async function expectReplicaOfDb1(): Promise<void> {
  const st = await waitFor('db4 replicating', async () => {
    const s = (await onDb4('SHOW SLAVE STATUS'))[0];
    return s?.Slave_IO_Running === 'Yes' && s?.Slave_SQL_Running === 'Yes' ? s : undefined;
  });
  expect(st.Master_Host).toBe(lab.info.hosts.find((h) => h.name === 'db1')?.address);
  expect(st.Last_Error).toBe('');
  expect((await hostState('db4')).marker).toBe(false);
}

/** Independent of the run's own check: app.big (no writes) has the same checksum on db1 and db4. */
async function expectBigEqual(): Promise<void> {
  const [p] = await query(lab.info, 'db1', 'SELECT @@gtid_binlog_pos AS pos');
  const [w] = await onDb4('SELECT MASTER_GTID_WAIT(?, 120) AS r', [p.pos]);
  expect(Number(w.r)).toBe(0);
  const [a] = await query(lab.info, 'db1', 'CHECKSUM TABLE app.big');
  const [b] = await onDb4('CHECKSUM TABLE app.big');
  expect(String(b.Checksum)).toBe(String(a.Checksum));
  const [n] = await onDb4('SELECT COUNT(*) AS n FROM app.big');
  expect(Number(n.n)).toBe(BIG_ROWS);
}

/** The distinct bytesCopied figures the copy's heartbeat details showed while the run went on. */
async function watchCopyProgress(handle: WorkflowHandle<typeof provisionReplica>): Promise<number[]> {
  const seen: number[] = [];
  for (;;) {
    const d = await handle.describe().catch(() => undefined);
    if (!d || d.status.name !== 'RUNNING') return seen;
    for (const a of d.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (a.activityType?.name !== 'copyBackup' || !payload) continue;
      const bytes =
        (defaultPayloadConverter.fromPayload(payload) as { bytesCopied?: number }).bytesCopied ?? 0;
      if (bytes > 0 && bytes !== seen.at(-1)) seen.push(bytes);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

function expectResult(r: ProvisionReplicaResult): void {
  expect(r).toMatchObject({ ok: true, cluster: 'lab', host: 'db4', primary: 'db1', method: 'logical' });
  expect(['db2', 'db3']).toContain(r.donor);
  expect(r.bytes).toBeGreaterThan(BIG_ROWS * 900);
  expect(r.rows).toBeGreaterThan(BIG_ROWS);
  expect(r.gtidPosition).toMatch(/^0-1-\d+$/);
  expect(r.checksum).toMatchObject({ reference: r.donor, equal: true });
  const tables = r.checksum.tables.map((t) => t.name);
  expect(tables).toEqual(expect.arrayContaining(['app.big', 'app.writes']));
  expect(r.checksum.tables.every((t) => t.equal)).toBe(true);
  const view = r.topology.find((n) => n.name === 'db4');
  expect(view).toMatchObject({ role: 'replica', source: 'db1', ioRunning: 'yes', sqlRunning: true });
  // The view reports "no error" as '' or null.
  expect(view?.error || null).toBeNull();
  expect(r.timeline.filter((s) => s.status === 'failed')).toEqual([]);
}

describe('provision-replica on the netns lab', () => {
  test('refusals leave the target as it was: a replicating target, a target holding data', async () => {
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    await startWorkerProcess(workerOptions(taskQueue));

    const db2 = await hostState('db2');
    const r1 = await refusal(client, taskQueue, { host: 'db2', wipe: true });
    expect(r1.type).toBe('Refused');
    expect(r1.message).toMatch(
      /^provision-replica on lab refused, nothing was changed: db2 already replicates from the primary db1 \(IO yes, SQL running\): it is provisioned/,
    );
    expect(await hostState('db2')).toEqual(db2);

    // Data of its own on db4 (root bypasses read_only): refused without wipe, left as it is.
    await onDb4('CREATE DATABASE junk');
    await onDb4('CREATE TABLE junk.t (id INT PRIMARY KEY)');
    try {
      const before = await hostState('db4');
      expect(before).toMatchObject({ source: null, marker: false });
      expect(before.schemas).toContain('junk');
      const r2 = await refusal(client, taskQueue, { host: 'db4' });
      expect(r2.type).toBe('Refused');
      expect(r2.message).toMatch(/db4 holds data \(schemas junk; GTID state 0-4-\d+\): .*pass wipe: true/);
      expect(await hostState('db4')).toEqual(before);
    } finally {
      // Empty again, as add-host made it: no schema, no GTID state.
      await onDb4('DROP DATABASE junk');
      await onDb4('RESET MASTER');
    }
    expect(await hostState('db4')).toMatchObject({ source: null, gtid: '|', marker: false });
  });

  test('planned successovers leave the empty db4 alone: not repointed, still empty, invariants hold', async () => {
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    await startWorkerProcess(workerOptions(taskQueue));
    const before = await hostState('db4');
    for (const [from, to] of [
      ['db1', 'db2'],
      ['db2', 'db1'],
    ]) {
      const r = await (
        await client.workflow.start(plannedSuccessover, {
          taskQueue,
          workflowId: workflowIdFor('planned-successover', 'lab'),
          args: [{ cluster: 'lab', target: to }],
          searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
        })
      ).result();
      expect([r.primary, r.target]).toEqual([from, to]);
      expect(r.warnings).toContain(
        `db4 is unprovisioned: run provision-replica; not repointed to ${to} (an empty server pointed at a primary would try to replay its whole history)`,
      );
      expect(r.timeline.filter((s) => s.step === 'repoint').map((s) => s.host)).not.toContain('db4');
      expect(r.timeline.find((s) => s.step === 'verify invariants')?.detail).toBe(
        'db4 is unprovisioned: run provision-replica (read-only, empty, replicates from no one)',
      );
      expect(await hostState('db4')).toEqual(before);
    }
    await settled();
  });

  test('provisions the empty db4 logically under write load: replicates from db1, checksums equal', async () => {
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    await startWorkerProcess(workerOptions(taskQueue));
    const errorsBefore = writer?.errors ?? 0;
    const ackedBefore = writer?.acked.length ?? 0;
    const t0 = Date.now();
    const handle = await start(client, taskQueue, { host: 'db4', method: 'logical' });
    const progress = watchCopyProgress(handle);
    const r = await handle.result();
    // What the UI shows under Pending Activities while the copy runs: new figures every second or
    // so, not one per 12 s (the SDK's default heartbeat throttle at a 15 s heartbeat timeout).
    const seen = await progress;
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expectResult(r);
    await expectReplicaOfDb1();
    await expectBigEqual();
    // Provisioning never touches the primary: the application saw no error meanwhile.
    expect(writer?.errors).toBe(errorsBefore);
    expect((writer?.acked.length ?? 0) - ackedBefore).toBeGreaterThan(50);
    console.log(
      `provisioned db4 from ${r.donor} in ${Date.now() - t0} ms: ${r.bytes} bytes, ${r.rows} rows, ${r.mbPerSecond} MB/s, ${r.rowsPerSecond} rows/s, copy ${r.copyMs} ms (${r.phases.map((p) => `${p.name} ${p.ms}`).join(', ')}), catch-up ${r.catchUpMs} ms, ${r.checksum.tables.length} tables equal at ${r.checksum.position}`,
    );
  });

  test('a worker killed mid-copy: the target is no replica meanwhile, a fresh worker completes the run', async () => {
    // db4 becomes a server holding data with no replication, reprovisioned with wipe.
    await onDb4('STOP SLAVE');
    await onDb4('RESET SLAVE ALL');
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    // The failpoint kills this worker (SIGKILL, as a crash) once a third of the copy is through.
    const first = await startWorkerProcess({ ...workerOptions(taskQueue), failpoints: 'provision-mid-copy' });
    const errorsBefore = writer?.errors ?? 0;
    const handle = await start(client, taskQueue, { host: 'db4', method: 'logical', wipe: true });
    const ended = await Promise.race([
      first.exited,
      handle.result().then(
        () => 'the run completed',
        (e: unknown) => `the run failed: ${failureReason(e).message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('no kill within 180 s'), 180_000)),
    ]);
    if (typeof ended === 'string') throw new Error(`the worker was not killed mid-copy: ${ended}`);
    expect(ended.signal).toBe('SIGKILL');
    const killedAt = Date.now();

    // Half restored, never claiming to be a replica: no replication, the marker in place.
    const mid = await hostState('db4');
    expect(mid).toMatchObject({ source: null, marker: true });
    // The dead worker's workflow task goes to the new worker at once; the copy attempt itself is
    // retried when its heartbeat times out (15 s), as after any crash.
    await releaseDeadWorker(client, handle, { failOrphans: false });
    await startWorkerProcess(workerOptions(taskQueue));
    const r = await handle.result();
    expectResult(r);
    await expectReplicaOfDb1();
    await expectBigEqual();
    expect(writer?.errors).toBe(errorsBefore);

    expect(await startedAttempt(handle, 'copyBackup')).toBe(2);
    console.log(
      `killed the worker a third into the copy; done ${Date.now() - killedAt} ms later (attempt 2: ${r.bytes} bytes, ${r.copyMs} ms)`,
    );
  });

  test('a physical copy through the workflow: db4 wiped and provisioned again with mariadb-backup, checksums equal', async () => {
    await onDb4('STOP SLAVE');
    await onDb4('RESET SLAVE ALL');
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    await startWorkerProcess(workerOptions(taskQueue));
    const errorsBefore = writer?.errors ?? 0;
    const r = await (
      await start(client, taskQueue, { host: 'db4', method: 'physical', wipe: true })
    ).result();
    expect(r).toMatchObject({ ok: true, host: 'db4', primary: 'db1', method: 'physical', rows: null });
    expect(r.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['stream', 'prepare']));
    expect(r.checksum).toMatchObject({ reference: r.donor, equal: true });
    await expectReplicaOfDb1();
    await expectBigEqual();
    expect(writer?.errors).toBe(errorsBefore);
    console.log(
      `physical: db4 from ${r.donor}: ${r.bytes} bytes in ${r.copyMs} ms (${r.phases.map((p) => `${p.name} ${p.ms}`).join(', ')}), catch-up ${r.catchUpMs} ms`,
    );
  });

  test('a host given in the input (newHost): checked, written to the worker inventory, taken out on a refusal, then provisioned', async () => {
    const client = await testClient();
    const taskQueue = `provision-${randomUUID()}`;
    const worker = await startWorkerProcess(workerOptions(taskQueue));
    const db5 = await labAddHost('db5', { dir: lab.dir, inventory: false });
    addedSockets.set('db5', db5.socket);
    const { name: _, ...entry } = db5.entry;
    const hostsInFile = () => findCluster(loadInventory(lab.info.inventory), 'lab').hosts.map((h) => h.name);
    const before = readFileSync(lab.info.inventory, 'utf8');
    expect(hostsInFile()).toEqual(['db1', 'db2', 'db3', 'db4']);

    // A key of no host of the cluster, but not db5's: the login proves it wrong; nothing is written.
    const stranger = join(logDir, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const strangerKey = readFileSync(`${stranger}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const r1 = await refusal(client, taskQueue, {
      host: 'db5',
      newHost: { ...entry, ssh: { ...entry.ssh!, hostKey: strangerKey } },
    });
    expect(r1.type).toBe('Refused');
    expect(r1.message).toMatch(
      /^provision-replica on lab refused, nothing was changed: newHost db5: ssh db5 .*host key mismatch/,
    );
    expect(readFileSync(lab.info.inventory, 'utf8')).toBe(before);

    // The right entry with a donor the preflight refuses: db5 was in the inventory during the run
    // (the refusal lists it), and is out of it again.
    const r2 = await refusal(client, taskQueue, { host: 'db5', newHost: entry, donor: 'db9' });
    expect(r2.message).toMatch(/unknown donor "db9": cluster lab has db1, db2, db3, db4, db5/);
    expect(hostsInFile()).toEqual(['db1', 'db2', 'db3', 'db4']);
    expect(await hostState('db5')).toMatchObject({ source: null, gtid: '|', marker: false });

    const r = await (await start(client, taskQueue, { host: 'db5', newHost: entry })).result();
    expect(r).toMatchObject({
      ok: true,
      host: 'db5',
      primary: 'db1',
      inventory: { added: true, inventoryFile: lab.info.inventory },
    });
    expect(r.checksum.equal).toBe(true);
    expect(r.topology.find((n) => n.name === 'db5')).toMatchObject({ role: 'replica', source: 'db1' });
    expect(hostsInFile()).toEqual(['db1', 'db2', 'db3', 'db4', 'db5']);
    expect(findCluster(loadInventory(lab.info.inventory), 'lab').hosts[4]).toEqual(db5.entry);
    // The worker that started with four hosts did it all: it re-read the file, no restart.
    expect(
      await Promise.race([worker.exited, new Promise((res) => setTimeout(() => res('running'), 10))]),
    ).toBe('running');
    // Given again, the entry is there already: nothing is added, and the refusal (db5 replicates
    // now) leaves in the inventory what this run did not add.
    const r3 = await refusal(client, taskQueue, { host: 'db5', newHost: entry });
    expect(r3.message).toMatch(/db5 already replicates from the primary db1/);
    expect(hostsInFile()).toEqual(['db1', 'db2', 'db3', 'db4', 'db5']);
  });

  test('no acknowledged write was lost, and db4 has them all', async () => {
    const w = writer;
    writer = undefined;
    if (!w) throw new Error('no writer');
    await w.stop();
    // The failed attempts are the planned successovers' write blackouts; provisioning adds none.
    console.log(`writer: ${w.acked.length} acknowledged writes, ${w.errors} failed attempts`);
    const c = await createConnection({
      socketPath: lab.info.hosts[0].socket,
      user: 'root',
      database: lab.info.app.database,
    });
    try {
      expect(await w.lost(c)).toEqual([]);
    } finally {
      c.destroy();
    }
    // And db4 has every one of them too.
    await expectBigEqual();
    const [n1] = await query(lab.info, 'db1', 'SELECT COUNT(*) AS n FROM app.writes');
    const [n4] = await onDb4('SELECT COUNT(*) AS n FROM app.writes');
    expect(Number(n4.n)).toBe(Number(n1.n));
    await expect(slaveStatus(lab.info, 'db2')).resolves.toMatchObject({ Slave_SQL_Running: 'Yes' });
  });
});
