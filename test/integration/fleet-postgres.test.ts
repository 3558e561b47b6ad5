// Issue 19 on a production-like Temporal: a planned fleet over three lab clusters on the
// PostgreSQL-backed server, two worker processes polling one task queue, one SIGKILLed while the
// fleet runs. The other finishes it: every cluster switched, each under its own writer with no
// acknowledged write lost, and never two writable nodes in a cluster at the end. Then a drain of
// machine m2, which now holds every primary, moves them all back to db1.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import { freeSubnet, lostThrough } from '../../bench/harness';
import { Writer } from '../../bench/writer';
import { labDown, labUp } from '../../lab/index';
import type { LabCluster, LabInfo } from '../../lab/types';
import { freePort } from '../../temporal/devserver';
import { startPostgresTemporal, stopPostgresTemporal } from '../../temporal/postgres';
import { drainHost, fleet } from '../../workflows';
import { drainWorkflowId, fleetProgressQuery, fleetWorkflowId } from '../../workflows/api';
import { recordHistories, rememberSecrets } from '../replay/record';
import { testEnv } from './testEnv';
import { startWorkerProcess, stopWorkerProcesses, type WorkerProcess } from './workerProcess';

// globalSetup's stale-dir sweep (prefix successover-test-temporal-) removes it after a killed run.
const pgDir = mkdtempSync(join(tmpdir(), 'successover-test-temporal-pg-fleet-'));
const labDir = mkdtempSync(join(tmpdir(), 'sofleet-test-'));
let address = '';
const started = new Date();
let lab: LabInfo | undefined;
const writers: Writer[] = [];

beforeAll(async () => {
  const [server, info] = await Promise.all([
    startPostgresTemporal({
      dataDir: pgDir,
      port: await freePort(),
      pgPort: await freePort(),
      headless: true,
      tiedToProcess: true,
      startTimeoutMs: 120_000,
    }),
    labUp({
      clusters: 3,
      hosts: 2,
      mode: 'netns',
      prefix: `sft${randomBytes(2).toString('hex')}`,
      subnet: await freeSubnet(),
      dir: labDir,
    }),
  ]);
  address = server.address;
  lab = info;
  rememberSecrets(info);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(writers.map((w) => w.stop()));
  await stopWorkerProcesses();
  try {
    // Recording (when asked) must not keep the lab up if it fails.
    await (address ? recorded() : Promise.resolve()).finally(() => labDown({ dir: labDir }));
  } finally {
    rmSync(labDir, { recursive: true, force: true });
    await stopPostgresTemporal(pgDir, { purge: true });
    rmSync(pgDir, { recursive: true, force: true });
  }
}, 300_000);

test('a worker SIGKILLed mid-fleet: the other finishes every cluster, no write lost', async () => {
  const info = lab!;
  const clusters = info.clusters!;
  expect(clusters.map((c) => c.name)).toEqual(['fleet01', 'fleet02', 'fleet03']);
  for (const c of clusters) {
    expect(await writableHosts(c)).toEqual(['db1']);
    const w = Writer.forLab({ ...info, writer: c.writer }, { intervalMs: 5, connectTimeoutMs: 100 });
    await w.start();
    writers.push(w);
  }
  const taskQueue = `fleet-pg-${randomUUID()}`;
  const worker = (n: number) =>
    startWorkerProcess({
      inventory: info.inventory,
      taskQueue,
      address,
      namespace: 'default',
      bundle: testEnv('bundle'),
      logFile: join(pgDir, `worker-${n}.log`),
    });
  const [doomed, survivor]: WorkerProcess[] = [await worker(1), await worker(2)];
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: 'default' });
    const handle = await client.workflow.start(fleet, {
      workflowId: fleetWorkflowId('planned', 'fleet=lab'),
      taskQueue,
      args: [{ runbook: 'planned', selector: 'fleet=lab', concurrency: 1, maxFailures: 1 }],
    });
    // Mid-fleet: the first cluster done, the next one running.
    for (let i = 0; ; i++) {
      const p = await handle.query(fleetProgressQuery).catch(() => undefined);
      if (p && p.counts.done >= 1 && p.counts.running === 1) break;
      if (i > 600) throw new Error(`the fleet never got going: ${JSON.stringify(p?.counts)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await doomed.kill();
    const r = await handle.result();
    expect(r).toMatchObject({ ok: true, ended: 'completed' });
    expect(r.counts).toMatchObject({ done: 3, failed: 0, refused: 0 });
    expect(survivor.pid).toBeGreaterThan(0);
    for (const c of clusters) expect(await writableHosts(c)).toEqual(['db2']);
    for (const [i, w] of writers.entries()) {
      await w.stop();
      expect(w.acked.length).toBeGreaterThan(100);
      expect(await lostThrough(info, `${clusters[i].name}/db2`, w)).toEqual([]);
    }
  } finally {
    await connection.close();
  }
}, 600_000);

test('drain-host m2: every primary moves off the machine the fleet moved them to', async () => {
  const info = lab!;
  const clusters = info.clusters!;
  const taskQueue = `drain-pg-${randomUUID()}`;
  await startWorkerProcess({
    inventory: info.inventory,
    taskQueue,
    address,
    namespace: 'default',
    bundle: testEnv('bundle'),
    logFile: join(pgDir, 'worker-drain.log'),
  });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: 'default' });
    const r = await client.workflow.execute(drainHost, {
      workflowId: drainWorkflowId('m2'),
      taskQueue,
      args: [{ machine: 'm2', concurrency: 3 }],
    });
    expect(r).toMatchObject({ ok: true, ended: 'completed' });
    expect(r.counts).toMatchObject({ done: 3, failed: 0, refused: 0 });
    for (const c of clusters) expect(await writableHosts(c)).toEqual(['db1']);
  } finally {
    await connection.close();
  }
}, 300_000);

/** The runs on this file's own server, when recording the replay suite's histories. */
async function recorded(): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await recordHistories(new Client({ connection, namespace: 'default' }), started, __filename);
  } finally {
    await connection.close();
  }
}

/** The cluster's hosts with read_only off, by their inventory name, read as root over the socket. */
async function writableHosts(c: LabCluster): Promise<string[]> {
  const out: string[] = [];
  for (const h of c.hosts) {
    const conn = await createConnection({ socketPath: h.socket, user: 'root', connectTimeout: 2000 });
    try {
      const [rows] = await conn.query('SELECT @@global.read_only AS ro');
      if (Number((rows as { ro: number }[])[0].ro) === 0) out.push(h.name.split('/').pop()!);
    } finally {
      conn.destroy();
    }
  }
  return out;
}
