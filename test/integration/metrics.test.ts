// The worker's /metrics as `successover worker --metrics-port` serves it: run counters by runbook,
// cluster and outcome after real runs, and the Temporal SDK's own metrics passed through. The
// worker is the CLI in a child process: the SDK's Runtime, and with it its metrics exporter, is
// installed once per process, before any connection, as the CLI does it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowIdFor } from '../../workflows/api';
import { freePort } from '../../temporal/devserver';
import { plannedSuccessover, topology } from '../../workflows';
import { testClient } from './temporal';
import { testEnv } from './testEnv';

const ROOT = join(__dirname, '..', '..');
const SETPRIV = '/usr/bin/setpriv';
const CLUSTER = 'metrics';
const taskQueue = `metrics-${Date.now()}`;

let dir: string;
let child: ChildProcess | undefined;
let exited: Promise<unknown> = Promise.resolve();
let metricsUrl: string;

/** A cluster whose hosts refuse connections: runs on it are quick and end in every way we count. */
async function writeInventory(): Promise<string> {
  writeFileSync(join(dir, 'mysql.pw'), 'metrics-test-mysql\n', { mode: 0o600 });
  writeFileSync(join(dir, 'repl.pw'), 'metrics-test-repl\n', { mode: 0o600 });
  const [p1, p2] = [await freePort(), await freePort()];
  const file = join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    [
      'clusters:',
      `  - name: ${CLUSTER}`,
      '    flavor: mariadb',
      '    hosts:',
      `      - { name: m1, address: 127.0.0.1, port: ${p1} }`,
      `      - { name: m2, address: 127.0.0.1, port: ${p2} }`,
      'credentials:',
      '  mysql: { user: successover, passwordFile: mysql.pw }',
      '  replication: { user: repl, passwordFile: repl.pw }',
      '',
    ].join('\n'),
  );
  return file;
}

/** Starts `successover worker` and resolves with its metrics URL once it polls. */
async function startWorkerCli(inventory: string): Promise<string> {
  const args = [
    join(ROOT, 'bin', 'successover.js'),
    'worker',
    '--inventory',
    inventory,
    '--task-queue',
    taskQueue,
    '--metrics-port',
    '0',
    '--metrics-host',
    '127.0.0.1',
  ];
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: testEnv('address'),
    TEMPORAL_NAMESPACE: testEnv('namespace'),
    LOG_LEVEL: 'info',
  };
  const stderr = openSync(join(dir, 'worker.stderr'), 'a');
  try {
    child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args], {
          env,
          cwd: ROOT,
          stdio: ['ignore', 'pipe', stderr],
        })
      : spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', stderr] });
  } finally {
    closeSync(stderr);
  }
  const proc = child;
  exited = new Promise((res) => proc.once('exit', res));
  return new Promise<string>((resolve, reject) => {
    let url: string | undefined;
    let out = '';
    let partial = '';
    const timer = setTimeout(() => reject(new Error(`the worker did not start:\n${out}`)), 120_000);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      const err = readFileSync(join(dir, 'worker.stderr'), 'utf8');
      reject(new Error(`the worker exited (${signal ?? code}):\n${out}${err}`));
    });
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const entry = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; url?: string }) : {};
        if (entry.msg === 'metrics served') url = entry.url;
        if (entry.msg === 'worker started' && url) {
          clearTimeout(timer);
          resolve(url);
        }
      }
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'successover-metrics-'));
  metricsUrl = await startWorkerCli(await writeInventory());
});

afterAll(async () => {
  child?.kill('SIGTERM');
  const kill = setTimeout(() => child?.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(kill);
  rmSync(dir, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const value = (all: Sample[], name: string, labels: Record<string, string>) =>
  all.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(metricsUrl);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

/** Scrapes until check passes: the sink runs as the workflow task completes, not before result(). */
async function scrapeUntil(check: (all: Sample[]) => boolean, timeoutMs = 15_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = samples((await scrape()).text);
    if (check(all) || Date.now() > deadline) return all;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function failureType(run: Promise<unknown>): Promise<string | undefined> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    const cause = (e as WorkflowFailedError).cause;
    return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : String(cause);
  }
  throw new Error('expected the run to fail');
}

describe('worker metrics (successover worker --metrics-port)', () => {
  test('counts runs by runbook, cluster and outcome', async () => {
    const client = await testClient();
    const seen = await client.workflow.execute(topology, {
      taskQueue,
      workflowId: `topology/${CLUSTER}/${taskQueue}`,
      args: [{ cluster: CLUSTER }],
    });
    expect(seen.topology.nodes.map((n) => n.reachable)).toEqual([false, false]);
    const planned = (input: Parameters<typeof plannedSuccessover>[0]) =>
      client.workflow.execute(plannedSuccessover, {
        taskQueue,
        workflowId: workflowIdFor('planned-successover', CLUSTER),
        args: [input],
      });
    // Nothing answers: no primary, so the preflight refuses.
    expect(await failureType(planned({ cluster: CLUSTER, target: 'm2' }))).toBe('Refused');
    expect(await failureType(planned({ cluster: CLUSTER, maxLagSeconds: -1 }))).toBe('BadInput');

    const started = 'successover_runs_started_total';
    const ended = 'successover_runs_ended_total';
    const planLabels = { runbook: 'planned-successover', cluster: CLUSTER };
    const topoLabels = { runbook: 'topology', cluster: CLUSTER };
    const all = await scrapeUntil(
      (s) =>
        value(s, ended, { ...planLabels, outcome: 'failed' }) === 1 &&
        value(s, ended, { ...planLabels, outcome: 'refused' }) === 1 &&
        value(s, ended, { ...topoLabels, outcome: 'completed' }) === 1,
    );
    const runs = all
      .filter((s) => s.name === started || s.name === ended)
      .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
      .sort();
    // Exactly these: the cluster lock the planned run took is a workflow, not a runbook run.
    expect(runs).toEqual(
      [
        `${ended}${JSON.stringify({ ...planLabels, outcome: 'failed' })} 1`,
        `${ended}${JSON.stringify({ ...planLabels, outcome: 'refused' })} 1`,
        `${ended}${JSON.stringify({ ...topoLabels, outcome: 'completed' })} 1`,
        `${started}${JSON.stringify(planLabels)} 2`,
        `${started}${JSON.stringify(topoLabels)} 1`,
      ].sort(),
    );
    // Refused and failed runs report no duration.
    expect(all.filter((s) => s.name.startsWith('successover_blackout_milliseconds'))).toEqual([]);
  });

  test('serves the Temporal SDK runtime metrics and the process metrics with them', async () => {
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = samples(text);
    // Worker task metrics from the SDK core, for this worker's task queue.
    const sdk = all.filter((s) => s.name.startsWith('temporal_') && s.labels.task_queue === taskQueue);
    expect(sdk.map((s) => s.name)).toEqual(expect.arrayContaining(['temporal_workflow_completed_total']));
    expect(all.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    // One exposition: every family declared once, whichever source it came from.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);

    const off = await fetch(metricsUrl.replace(/\/metrics$/, '/other'));
    expect(off.status).toBe(404);
  });
});
