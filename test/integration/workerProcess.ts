// A successover worker in a child process of its own, so a test can SIGKILL it as a crash would
// (an in-process worker cannot be killed without killing jest). The child runs this same file
// through tsx with the prebuilt workflow bundle (no bundling at start). Every child is tied to
// the test process (pdeathsig) and tracked, so stopWorkerProcesses() and a crashed jest both
// leave none behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Writer } from '../../bench/writer';
import type { LabFixture } from './labFixture';
import { testEnv } from './testEnv';

export interface WorkerProcessOptions {
  inventory: string;
  taskQueue: string;
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  /** Prebuilt workflow bundle (testEnv('bundle')). */
  bundle: string;
  /** SUCCESSOVER_FAILPOINTS for this process only, e.g. critical:promote. */
  failpoints?: string;
  /** The child's stderr (SDK and worker logs) is appended here. */
  logFile: string;
  /** On SIGTERM, how long activities under way may finish (createWorker's); default 0. */
  shutdownGraceSeconds?: number;
  readyTimeoutMs?: number;
}

export interface WorkerProcess {
  pid: number;
  /** Resolves when the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (the worker drains), then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const ENV = {
  inventory: 'SUCCESSOVER_WP_INVENTORY',
  taskQueue: 'SUCCESSOVER_WP_TASK_QUEUE',
  address: 'SUCCESSOVER_WP_ADDRESS',
  namespace: 'SUCCESSOVER_WP_NAMESPACE',
  bundle: 'SUCCESSOVER_WP_BUNDLE',
  shutdownGrace: 'SUCCESSOVER_WP_SHUTDOWN_GRACE',
} as const;

// temporal.api.enums.v1.PendingActivityState
const PENDING_ACTIVITY_STATE_STARTED = 2;
const READY = 'worker polling\n';
const SETPRIV = '/usr/bin/setpriv';
const running = new Set<WorkerProcess>();

/** Starts the child and waits until its worker polls the task queue. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [ENV.inventory]: o.inventory,
    [ENV.taskQueue]: o.taskQueue,
    [ENV.address]: o.address,
    [ENV.namespace]: o.namespace,
    [ENV.bundle]: o.bundle,
    [ENV.shutdownGrace]: String(o.shutdownGraceSeconds ?? 0),
  };
  delete env.SUCCESSOVER_FAILPOINTS;
  if (o.failpoints) env.SUCCESSOVER_FAILPOINTS = o.failpoints;
  const node = [process.execPath, '--import', 'tsx', __filename];
  const log = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    // setpriv execs node in place: the pid we hold is the worker's own.
    child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', ...node], {
          env,
          cwd: join(__dirname, '..', '..'),
          stdio: ['ignore', 'pipe', log],
        })
      : spawn(node[0], node.slice(1), {
          env,
          cwd: join(__dirname, '..', '..'),
          stdio: ['ignore', 'pipe', log],
        });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const wp: WorkerProcess = {
    pid: child.pid ?? -1,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 5000) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(wp);
  void exited.then(() => running.delete(wp));

  let out = '';
  const ready = new Promise<void>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`worker process did not start within ${o.readyTimeoutMs ?? 30_000} ms`)),
      o.readyTimeoutMs ?? 30_000,
    );
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(READY)) {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`worker process exited (${signal ?? `code ${code}`}) before polling; see ${o.logFile}`));
    });
  });
  try {
    await ready;
  } catch (e) {
    await wp.kill();
    throw e;
  }
  return wp;
}

/** A worker process on the lab's inventory and the test run's dev server, logging into logDir. */
export function labWorkerOptions(
  lab: LabFixture,
  logDir: string,
  taskQueue: string,
  failpoints?: string,
): WorkerProcessOptions {
  return {
    inventory: lab.info.inventory,
    taskQueue,
    address: testEnv('address'),
    namespace: testEnv('namespace'),
    bundle: testEnv('bundle'),
    failpoints,
    logFile: join(logDir, `${taskQueue}.log`),
  };
}

/** The attempt that started the run's first activity of that name: 2 after one crash. */
export async function startedAttempt(handle: WorkflowHandle, activity: string): Promise<number | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  );
  const started = events.find(
    (e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled?.eventId),
  );
  return started?.activityTaskStartedEventAttributes?.attempt ?? undefined;
}

/** Kills every worker process still running (afterEach/afterAll). */
export async function stopWorkerProcesses(): Promise<void> {
  await Promise.all([...running].map((w) => w.kill()));
}

/**
 * The teardown of a test file whose workers run as processes beside a lab and a writer: workers
 * killed after each test (a failed one included); after all, the writer, the lab and the log dir.
 * `state` is read at teardown, so the file's variables may be set (or cleared) meanwhile.
 */
export function tearDownAfterTests(
  state: () => { writer?: Writer; lab?: LabFixture; logDir?: string },
): void {
  afterEach(stopWorkerProcesses);
  afterAll(async () => {
    const { writer, lab, logDir } = state();
    await writer?.stop();
    await stopWorkerProcesses();
    await lab?.down();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });
}

// Shared by the resumability tests (resume*.test.ts): where a run is, whether the cluster ended
// healthy, the app stand-in. Their modules are loaded on use, so the worker child skips them.

/** Polls the run's `progress` query until its timeline has the step; returns its status then. */
export async function waitForStep(handle: WorkflowHandle, step: string, timeoutMs = 60_000): Promise<string> {
  const { progressQuery } = await import('../../workflows/runbook');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    const entry = p?.timeline.find((s) => s.step === step);
    if (entry) return entry.status;
    if (Date.now() > deadline) throw new Error(`the run did not reach step "${step}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * What a dead worker leaves the server waiting on, cleared at once instead of by timeouts: the
 * run's sticky queue (the next workflow task would wait for the dead worker ~10 s) and, with
 * failOrphans, activity attempts it had started (retried only after startToCloseTimeout, 60 s
 * for ordinary steps). The retry that follows is the one a timeout would have caused.
 */
export async function releaseDeadWorker(
  client: Client,
  handle: WorkflowHandle,
  opts: { failOrphans: boolean },
): Promise<string[]> {
  const { workflowId } = handle;
  const d = await handle.describe();
  await client.workflowService.resetStickyTaskQueue({
    namespace: client.options.namespace,
    execution: { workflowId, runId: d.runId },
  });
  if (!opts.failOrphans) return [];
  const failed: string[] = [];
  for (const a of d.raw.pendingActivities ?? []) {
    if (a.state !== PENDING_ACTIVITY_STATE_STARTED || !a.activityId) continue;
    await client.activity.fail(
      { workflowId, runId: d.runId, activityId: a.activityId },
      new Error('the worker running this attempt was killed'),
    );
    failed.push(a.activityType?.name ?? a.activityId);
  }
  return failed;
}

/** The app stand-in on the lab's writer endpoint (every 10 ms: two cores are shared). */
export async function labWriter(lab: LabFixture): Promise<Writer> {
  const { Writer } = await import('../../bench/writer');
  return Writer.forLab(lab.info, { intervalMs: 10 });
}

/** The child: one worker on the given queue until SIGTERM/SIGINT (or a failpoint's SIGKILL). */
async function main(): Promise<void> {
  // Loaded here, not at the top: the test process needs none of it, the child nothing else.
  const { Client, Connection } = await import('@temporalio/client');
  const { DefaultLogger, NativeConnection, Runtime } = await import('@temporalio/worker');
  const { default: pino } = await import('pino');
  const { createWorker } = await import('../../worker/index');
  const need = (k: keyof typeof ENV) => {
    const v = process.env[ENV[k]];
    if (!v) throw new Error(`${ENV[k]} is not set`);
    return v;
  };
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const address = need('address');
  const namespace = need('namespace');
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  const w = await createWorker({
    inventoryPath: need('inventory'),
    connection,
    client,
    namespace,
    taskQueue: need('taskQueue'),
    workflowBundle: { codePath: need('bundle') },
    logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
    shutdownGraceSeconds: Number(need('shutdownGrace')),
  });
  const running = w.run();
  process.stdout.write(READY);
  try {
    await running;
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

if (require.main === module)
  main().catch((e: unknown) => {
    process.stderr.write(`worker process failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
