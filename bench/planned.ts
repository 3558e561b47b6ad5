// The planned-successover benchmark: a lab of its own (unique namespaces, subnet and directory,
// so it never touches a user's `.lab`), an in-memory Temporal dev server, an in-process worker
// and a writer committing through the VIP. It switches db1 → db2 → db1 … exactly as the CLI
// does and measures, per run, the blackout the workflow reports and the longest gap between
// two writes the application saw acknowledged: the figure users feel.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createConnection } from 'mysql2/promise';
import pino from 'pino';
import { failureReason, startRunbook } from '../cli/runbooks';
import type { PlannedSuccessoverResult, TimelineStep } from '../domain/runbook';
import { RUNBOOKS } from '../domain/runbook';
import { labDown, labStatus, labUp, type LabInfo } from '../lab/index';
import { parseSubnet, subnetInUse } from '../lab/net';
import { freePort, startDevServer, stopDevServer } from '../temporal/devserver';
import { createWorker } from '../worker/index';
import { summarize, type Summary } from './stats';
import { Writer, type Ack } from './writer';

export interface PlannedBenchOptions {
  runs: number;
  hosts: number;
  /** Leave the lab up at the end (its directory is printed); the dev server dies with us anyway. */
  keepLab?: boolean;
  /** Pause between runs, so replication and the client settle. */
  pauseMs?: number;
  log?: (line: string) => void;
}

/** Where the longest client gap of a run sat, relative to the start of its 'read-only' step. */
export interface GapWindow {
  fromMs: number;
  toMs: number;
}

export interface RunSample {
  run: number;
  from: string;
  to: string;
  ok: boolean;
  error?: string;
  workflowId?: string;
  runId?: string;
  blackoutMs: number | null;
  clientGapMs: number;
  gap: GapWindow | null;
  /** Write attempts that failed during the run (not acknowledged, so not counted as lost). */
  failedWrites: number;
  /** Workflow start to result. */
  totalMs: number;
  /** End of 'catch up' to start of 'read-only': the critical-section activity's start plus its preparation. */
  criticalStartMs: number | null;
  /** Milliseconds of each critical-section step. */
  steps: Record<string, number>;
}

export interface PlannedBenchResult {
  runs: number;
  failedRuns: number;
  blackoutMs: Summary;
  clientGapMs: Summary;
  ackedWrites: number;
  lostWrites: number;
  finalPrimary: string | null;
  labDir: string | null;
  perRun: RunSample[];
}

const CRITICAL_STEPS = [
  'read-only',
  'kill loop started',
  'final position',
  'wait for target',
  'promote',
  'traffic to target',
  'traffic off old primary',
  'kill loop stopped',
];
/** Acks that land just after the workflow returned still belong to its run. */
const GAP_MARGIN_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const randomName = (n: number) =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

async function freeSubnet(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const cidr = `10.99.${1 + Math.floor(Math.random() * 250)}.0/24`;
    if ((await subnetInUse(parseSubnet(cidr))).length === 0) return cidr;
  }
  throw new Error('no free 10.99.N.0/24 subnet found for the bench lab');
}

/** The longest gap between two acks with the later one in [from, to], and where it was. */
export function longestGap(
  acked: readonly Ack[],
  from: number,
  to: number,
): { ms: number; a: number; b: number } {
  let best = { ms: 0, a: from, b: from };
  for (let i = 1; i < acked.length; i++) {
    const x = acked[i];
    if (x.at < from || x.at > to) continue;
    const ms = x.at - acked[i - 1].at;
    if (ms > best.ms) best = { ms, a: acked[i - 1].at, b: x.at };
  }
  return best;
}

const stepStart = (t: TimelineStep[], name: string) => {
  const s = t.find((x) => x.step === name);
  return s ? Date.parse(s.start) : undefined;
};
const stepEnd = (t: TimelineStep[], name: string) => {
  const s = t.find((x) => x.step === name);
  return s?.end ? Date.parse(s.end) : undefined;
};

/**
 * LIFO teardown that runs once, whichever of normal end, failure or a signal gets there first.
 * After a signal only the essential steps run (the lab, the server, the writer, the worker):
 * closing gRPC connections under a pending long poll makes it throw from a timer, and the
 * process exits right after anyway.
 */
class Teardown {
  private readonly steps: { what: string; fn: () => Promise<unknown>; essential: boolean }[] = [];
  private done: Promise<void> | undefined;
  constructor(private readonly log: (l: string) => void) {}
  add(what: string, fn: () => Promise<unknown>, essential = true): void {
    this.steps.push({ what, fn, essential });
  }
  run(onSignal = false): Promise<void> {
    this.done ??= (async () => {
      for (const s of [...this.steps].reverse()) {
        if (onSignal && !s.essential) continue;
        if (onSignal) this.log(`teardown: ${s.what}`);
        try {
          // A step stuck on a dying process must not keep the lab up.
          await (onSignal ? bounded(s.fn(), 10_000, s.what) : s.fn());
        } catch (e) {
          this.log(`teardown: ${s.what} failed: ${(e as Error).message}`);
        }
      }
    })();
    return this.done;
  }
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>(
    (_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no end after ${ms} ms`)), ms)),
  );
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function startServer(dataDir: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ dataDir, port: await freePort(), headless: true, tiedToProcess: true });
    } catch (e) {
      // Another process took the port between our check and the server's bind.
      if (attempt >= 3 || !/address already in use/.test(String(e))) throw e;
    }
  }
}

async function currentPrimary(dir: string): Promise<string | null> {
  const s = await labStatus({ dir });
  const writable = s.hosts.filter((h) => h.role === 'primary');
  return writable.length === 1 ? writable[0].name : null;
}

/** Acknowledged writes missing on a lab host, read as root over its socket (works during a cut). */
export async function lostThrough(info: LabInfo, host: string, writer: Writer): Promise<number[]> {
  const h = info.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  const c = await createConnection({ socketPath: h.socket, user: 'root', connectTimeout: 2000 });
  try {
    return await writer.lost(c);
  } finally {
    c.destroy();
  }
}

export async function runPlannedBench(o: PlannedBenchOptions): Promise<PlannedBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isInteger(o.runs) || o.runs < 1)
    throw new Error(`--runs ${o.runs}: expected a positive integer`);
  const pauseMs = o.pauseMs ?? 1000;
  const teardown = new Teardown(log);
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    // Listening stays on: a second signal would otherwise kill us halfway through the teardown.
    if (interrupted) return log(`${sig} again: still tearing down`);
    interrupted = true;
    log(`${sig}: tearing down the bench lab`);
    // The run in flight fails in all sorts of ways while its world is removed: none matters now.
    process.on('uncaughtException', (e) => log(`(ignored while tearing down: ${e.message})`));
    process.on('unhandledRejection', () => undefined);
    // Keeps the event loop alive while teardown awaits native work that holds no handle.
    setInterval(() => undefined, 1000);
    void teardown.run(true).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const labDir = mkdtempSync(join(tmpdir(), 'sobench-'));
  const temporalDir = mkdtempSync(join(tmpdir(), 'sobench-temporal-'));
  teardown.add('remove the Temporal data dir', async () =>
    rmSync(temporalDir, { recursive: true, force: true }),
  );
  if (!o.keepLab)
    teardown.add('remove the lab', async () => {
      try {
        await labDown({ dir: labDir, log });
      } finally {
        rmSync(labDir, { recursive: true, force: true });
      }
    });
  try {
    const prefix = `sob${randomName(4)}`;
    const subnet = await freeSubnet();
    log(`bench lab ${prefix} (${subnet}, ${o.hosts} hosts) in ${labDir}; Temporal dev server in memory`);
    teardown.add('stop the Temporal dev server', () => stopDevServer(temporalDir));
    const [info, server] = await Promise.all([
      labUp({ hosts: o.hosts, mode: 'netns', prefix, subnet, dir: labDir, temporal: false }),
      startServer(temporalDir),
    ]);

    try {
      // The worker's state changes are INFO lines that would drown the bench's own output.
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // a runtime exists already (embedding process): keep its logger
    }
    const connection = await Connection.connect({ address: server.address });
    teardown.add('close the client', () => connection.close(), false);
    const client = new Client({ connection, namespace: server.namespace });
    const native = await NativeConnection.connect({ address: server.address });
    teardown.add('close the worker connection', () => native.close(), false);
    const taskQueue = `bench-${randomUUID()}`;
    const worker = await createWorker({
      inventoryPath: info.inventory,
      connection: native,
      client,
      namespace: server.namespace,
      taskQueue,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
    });
    const polling = worker.run();
    teardown.add('stop the worker', async () => {
      try {
        worker.shutdown();
      } catch {
        // already stopping (the Temporal runtime reacts to signals too)
      }
      await polling;
    });

    const writer = new Writer({
      host: info.writer.host,
      port: info.writer.port,
      user: info.app.user,
      password: readFileSync(info.app.passwordFile, 'utf8').trim(),
      database: info.app.database,
      intervalMs: 2,
      connectTimeoutMs: 100,
    });
    await writer.start();
    teardown.add('stop the writer', () => writer.stop());
    await sleep(pauseMs);

    const perRun: RunSample[] = [];
    const names = info.hosts.map((h) => h.name);
    let primary = names[0];
    for (let i = 0; i < o.runs && !interrupted; i++) {
      const target = primary === names[0] ? names[1] : names[0];
      const errorsBefore = writer.errors;
      const t0 = Date.now();
      const sample: RunSample = {
        run: i + 1,
        from: primary,
        to: target,
        ok: false,
        blackoutMs: null,
        clientGapMs: 0,
        gap: null,
        failedWrites: 0,
        totalMs: 0,
        criticalStartMs: null,
        steps: {},
      };
      let timeline: TimelineStep[] = [];
      try {
        const started = await startRunbook<PlannedSuccessoverResult>(client, {
          runbook: RUNBOOKS.planned,
          workflow: 'plannedSuccessover',
          cluster: info.cluster,
          input: { cluster: info.cluster, target },
          summary: `bench: planned successover → ${target} on ${info.cluster}`,
          taskQueue,
        });
        sample.workflowId = started.workflowId;
        sample.runId = started.runId;
        const r = await started.result;
        sample.ok = true;
        sample.blackoutMs = r.blackoutMs;
        timeline = r.timeline;
        primary = r.target;
      } catch (e) {
        sample.error = failureReason(e).message;
      }
      const t1 = Date.now();
      sample.totalMs = t1 - t0;
      await sleep(GAP_MARGIN_MS);
      sample.clientGapMs = writer.maxGapMs(t0, t1 + GAP_MARGIN_MS);
      sample.failedWrites = writer.errors - errorsBefore;
      const roStart = stepStart(timeline, 'read-only');
      const g = longestGap(writer.acked, t0, t1 + GAP_MARGIN_MS);
      if (roStart !== undefined && g.ms > 0) sample.gap = { fromMs: g.a - roStart, toMs: g.b - roStart };
      const catchUpEnd = stepEnd(timeline, 'catch up');
      if (roStart !== undefined && catchUpEnd !== undefined) sample.criticalStartMs = roStart - catchUpEnd;
      for (const s of timeline)
        if (CRITICAL_STEPS.includes(s.step) && s.ms !== undefined) sample.steps[s.step] = s.ms;
      perRun.push(sample);
      log(
        sample.ok
          ? `run ${sample.run}: ${sample.from} → ${sample.to} blackout ${sample.blackoutMs} ms, client gap ${sample.clientGapMs} ms (${sample.failedWrites} failed attempts), run ${sample.totalMs} ms`
          : `run ${sample.run}: ${sample.from} → ${sample.to} FAILED: ${sample.error}`,
      );
      if (!sample.ok) break; // the topology is no longer the one the next run expects
      await sleep(Math.max(0, pauseMs - GAP_MARGIN_MS));
    }

    // Interrupted: the signal's teardown owns the end (and exits 130); returning a result now
    // would let the caller exit halfway through it.
    if (interrupted) await new Promise<never>(() => undefined);
    await writer.stop();
    const finalPrimary = await currentPrimary(labDir);
    const lost = finalPrimary
      ? await lostThrough(info, finalPrimary, writer)
      : writer.acked.map((a) => a.seq);
    if (!finalPrimary)
      log('no single writable node at the end: every acknowledged write counts as unverified');
    if (lost.length)
      log(`LOST acknowledged writes: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? ' …' : ''}`);
    const ok = perRun.filter((r) => r.ok);
    if (o.keepLab) log(`lab kept in ${labDir}: \`successover lab down --dir ${labDir}\` removes it`);
    return {
      runs: perRun.length,
      failedRuns: perRun.length - ok.length,
      blackoutMs: summarize(ok.map((r) => r.blackoutMs ?? 0)),
      clientGapMs: summarize(ok.map((r) => r.clientGapMs)),
      ackedWrites: writer.acked.length,
      lostWrites: lost.length,
      finalPrimary,
      labDir: o.keepLab ? labDir : null,
      perRun,
    };
  } catch (e) {
    if (interrupted) await new Promise<never>(() => undefined);
    throw e;
  } finally {
    if (!interrupted) {
      await teardown.run();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
