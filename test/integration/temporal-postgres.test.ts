// The production-like Temporal (temporal/postgres.ts): the real server on a private PostgreSQL,
// with the Web UI server, started on free ports in a temp dir. A planned successover (the real
// workflow bundle, the fake cluster's activities: no lab) runs on it, visibility finds it by its
// Cluster search attribute, and it is still there after a stop and a warm start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { RUNBOOKS } from '../../domain/runbook';
import { freePort } from '../../temporal/devserver';
import {
  postgresTemporalStatus,
  startPostgresTemporal,
  stopPostgresTemporal,
  type StartedPostgresTemporal,
} from '../../temporal/postgres';
import { plannedSuccessover } from '../../workflows';
import { workflowIdFor } from '../../workflows/api';
import type { RunMetricsSinks } from '../../workflows/interceptors';
import { FakeCluster } from '../unit/workflows/fakeCluster';
import { testEnv } from './testEnv';

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // installed already
}

// globalSetup's stale-dir sweep (prefix successover-test-temporal-) removes it after a killed run.
const dir = mkdtempSync(join(tmpdir(), 'successover-test-temporal-pg-'));
const starts: { what: string; s: StartedPostgresTemporal }[] = [];
const t0 = Date.now();

async function start(what: string): Promise<StartedPostgresTemporal> {
  const s = await startPostgresTemporal({
    dataDir: dir,
    // Free ports the first time; a restart reuses the recorded ones.
    ...(starts.length === 0
      ? { port: await freePort(), uiPort: await freePort(), pgPort: await freePort() }
      : {}),
    tiedToProcess: true,
    startTimeoutMs: 120_000,
  });
  starts.push({ what, s });
  return s;
}

let server: StartedPostgresTemporal;
beforeAll(async () => {
  server = await start('cold');
}, 300_000);

afterAll(async () => {
  try {
    await stopPostgresTemporal(dir, { purge: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const { what, s } of starts)
      console.log(`${what} start: ${s.startMs} ms ${JSON.stringify(s.timings)}`);
    console.log(`test file: ${Date.now() - t0} ms`);
  }
}, 120_000);

async function withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: server.namespace }));
  } finally {
    await connection.close();
  }
}

const fake = new FakeCluster({ prefix: 'pg' });
const workflowId = workflowIdFor(RUNBOOKS.planned, fake.name);

test('a cold start creates the cluster, the schema, the namespace and the search attributes', async () => {
  expect(server).toMatchObject({ cold: true, alreadyRunning: false, namespace: 'default' });
  expect(Object.keys(server.timings)).toEqual(
    expect.arrayContaining(['initdb', 'postgres', 'schema', 'server', 'namespace', 'ui']),
  );
  await withClient(async (c) => {
    const sa = await c.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    // 2 = INDEXED_VALUE_TYPE_KEYWORD
    expect(sa.customAttributes).toMatchObject({ Cluster: 2, Runbook: 2, RunbookPhase: 2 });
    const ns = await c.connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
  });
  expect((await postgresTemporalStatus(dir)).parts).toEqual({
    postgres: 'running',
    server: 'running',
    ui: 'running',
  });
});

test('a planned successover runs to completion and visibility finds it by Cluster', async () => {
  const native = await NativeConnection.connect({ address: server.address });
  const noop = { fn: () => undefined, callDuringReplay: false };
  const sinks: InjectedSinks<RunMetricsSinks> = { runMetrics: { started: noop, ended: noop } };
  const taskQueue = `pg-test-${fake.name}`;
  const worker = await Worker.create({
    connection: native,
    namespace: server.namespace,
    taskQueue,
    workflowBundle: { codePath: testEnv('bundle') },
    activities: fake.activities(),
    sinks,
    shutdownGraceTime: '1 second',
  });
  try {
    await worker.runUntil(
      withClient(async (c) => {
        const handle = await c.workflow.start(plannedSuccessover, {
          workflowId,
          taskQueue,
          args: [{ cluster: fake.name, target: 'db2', waitTimeoutSeconds: 5 }],
        });
        const r = await handle.result();
        expect(r).toMatchObject({ ok: true, cluster: fake.name, primary: 'db1', target: 'db2' });
        expect(fake.writers()).toEqual(['db2']);
        // SQL visibility is written by the history service's queue, after the run closed.
        const deadline = Date.now() + 15_000;
        let found: string[] = [];
        while (Date.now() < deadline) {
          found = [];
          for await (const w of c.workflow.list({
            query: `Cluster = '${fake.name}' AND ExecutionStatus = 'Completed'`,
          }))
            found.push(`${w.workflowId} ${w.searchAttributes.RunbookPhase}`);
          if (found.length > 0) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        expect(found).toEqual([`${workflowId} done`]);
      }),
    );
  } finally {
    await native.close();
  }
});

test('the Web UI serves this server: its API lists the run', async () => {
  const q = encodeURIComponent(`Cluster = '${fake.name}'`);
  const r = await fetch(`${server.uiUrl}/api/v1/namespaces/default/workflows?query=${q}`);
  expect(r.status).toBe(200);
  expect(await r.text()).toContain(workflowId);
});

test('after a stop and a warm start the run is still there; a second start finds it running', async () => {
  expect((await stopPostgresTemporal(dir)).stopped).toEqual(['ui', 'server', 'postgres']);
  expect((await postgresTemporalStatus(dir)).state).toBe('stopped');
  const warm = await start('warm');
  expect(warm).toMatchObject({ cold: false, alreadyRunning: false, address: server.address });
  expect(warm.timings.initdb).toBeLessThan(50);
  await withClient(async (c) => {
    const d = await c.workflow.getHandle(workflowId).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.searchAttributes).toMatchObject({ Cluster: [fake.name], RunbookPhase: ['done'] });
  });
  const again = await start('already running');
  expect(again).toMatchObject({ alreadyRunning: true, pids: warm.pids });
}, 180_000);
