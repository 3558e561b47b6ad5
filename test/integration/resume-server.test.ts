// Resumability across a Temporal restart: a dev server of this file's own, persisted in a SQLite
// file, is stopped in the middle of a planned successover and started again on the same file and
// port. The worker process is left alone: it must reconnect by itself and the run complete with
// the invariants holding and no acknowledged write lost.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { Writer } from '../../bench/writer';
import { freePort, startDevServer, stopDevServer, type DevServerOptions } from '../../temporal/devserver';
import { plannedSuccessover } from '../../workflows';
import { rootConnection, startLab, type LabFixture } from './labFixture';
import { expectHealthy } from './clusterSnapshot';
import { testEnv } from './testEnv';
import {
  labWriter,
  startWorkerProcess,
  stopWorkerProcesses,
  waitForStep,
  type WorkerProcess,
} from './workerProcess';

let lab: LabFixture;
let dir: string;
let server: DevServerOptions;
let client: Client | undefined;
let writer: Writer | undefined;
let worker: WorkerProcess;
const taskQueue = `resume-${randomUUID()}`;
let primary = 'db1';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'successover-resume-server-'));
  server = {
    dataDir: join(dir, 'temporal'),
    dbFilename: join(dir, 'temporal.sqlite'),
    port: await freePort(),
    headless: true,
    tiedToProcess: true,
  };
  const [started, l] = await Promise.all([startDevServer(server), startLab({ mode: 'netns', hosts: 3 })]);
  lab = l;
  client = new Client({ connection: await Connection.connect({ address: started.address }) });
  worker = await startWorkerProcess({
    inventory: lab.info.inventory,
    taskQueue,
    address: started.address,
    namespace: started.namespace,
    bundle: testEnv('bundle'),
    logFile: join(dir, 'worker.log'),
  });
  writer = await labWriter(lab);
  await writer.start();
});
afterAll(async () => {
  await writer?.stop();
  await stopWorkerProcesses();
  await client?.connection.close();
  await stopDevServer(server.dataDir, 5000);
  await lab?.down();
  rmSync(dir, { recursive: true, force: true });
});

describe('Temporal restarted during a planned successover', () => {
  test.each(['catch up', 'repoint'])('stopped at "%s" and started again: the run completes', async (step) => {
    const t0 = Date.now();
    const target = primary === 'db1' ? 'db2' : 'db1';
    if (!client) throw new Error('no client');
    const handle = await client.workflow.start(plannedSuccessover, {
      taskQueue,
      workflowId: `resume-server/${randomUUID()}`,
      args: [{ cluster: 'lab', target }],
      searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
    });
    const status = await waitForStep(handle, step);
    const stopped = Date.now();
    await stopDevServer(server.dataDir);
    await sleep(2000); // the worker's polls and the step's completion fail meanwhile
    const restarted = await startDevServer(server);
    expect(restarted.alreadyRunning).toBe(false);
    const downMs = Date.now() - stopped;

    const r = await handle.result();
    const doneMs = Date.now() - stopped;
    expect([r.primary, r.target]).toEqual([primary, target]);
    primary = target;
    await expectHealthy(lab, target);
    // The same worker process did it: it reconnected by itself.
    expect(await Promise.race([worker.exited, sleep(10, 'running')])).toBe('running');
    console.log(
      `server stopped at "${step}" (${status}) for ${downMs} ms: run done ${doneMs} ms after the stop (test ${Date.now() - t0} ms)`,
    );
  });

  test('no acknowledged write was lost', async () => {
    const w = writer;
    writer = undefined;
    if (!w) throw new Error('no writer');
    await w.stop();
    console.log(
      `writer: ${w.acked.length} acknowledged writes, ${w.errors} failed attempts, longest gap ${w.maxGapMs()} ms`,
    );
    expect(w.acked.length).toBeGreaterThan(100);
    const c = await rootConnection(lab.info, primary);
    try {
      expect(await w.lost(c)).toEqual([]);
    } finally {
      c.destroy();
    }
  });
});
