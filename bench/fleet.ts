// The fleet benchmark (issue 19): a lab of N small clusters, each under its own writer, one worker
// in a process of its own (so its CPU and memory are its alone), and a planned fleet over all of
// them at a given concurrency. First a few planned successovers of one cluster alone, under the same
// writers: the per-cluster client gap of the fleet is compared with that. Run on the dev server and
// on the PostgreSQL-backed server, one after the other, on the same lab.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { failureReason, startRunbook } from '../cli/runbooks';
import { RUNBOOKS, type PlannedSuccessoverResult } from '../domain/runbook';
import { labDown, labStatus, labUp } from '../lab/index';
import type { LabCluster, LabInfo } from '../lab/types';
import { freePort, startDevServer, stopDevServer } from '../temporal/devserver';
import { startPostgresTemporal, stopPostgresTemporal } from '../temporal/postgres';
import { fleetWorkflowId, workflowIdFor, type FleetResult } from '../workflows/api';
import { fleet } from '../workflows/fleet';
import { plannedSuccessover } from '../workflows/plannedSuccessover';
import { freeSubnet, lostThrough, sleep } from './harness';
import { percentile, summarize, type Summary } from './stats';
import { cpuSeconds, memoryMb, startWorkerProcess } from './workerProcess';
import { Writer } from './writer';

export type FleetServer = 'dev' | 'postgres';

export interface FleetBenchOptions {
  clusters: number;
  concurrency: number;
  servers: FleetServer[];
  /** Planned successovers of the first cluster alone, before each fleet (the gap to compare with). */
  singleRuns: number;
  /** Each cluster's writer commits this often. */
  writeIntervalMs: number;
  log?: (line: string) => void;
}

export interface FleetServerResult {
  server: FleetServer;
  ok: boolean;
  error?: string;
  /** The first cluster alone: client gap of each run. */
  single: { runs: number; failedRuns: number; clientGapMs: Summary };
  fleet: {
    ended: FleetResult['ended'] | null;
    counts: FleetResult['counts'] | null;
    /** Fleet start to result. */
    wholeMs: number;
    /** Every cluster's longest gap between two acknowledged writes while its child ran. */
    clientGapMs: Summary & { p99: number };
    blackoutMs: Summary;
    /** fleet gap p50 / single gap p50. */
    gapRatioP50: number | null;
    historyEventsPerChild: Summary;
    /** Of the fleet's own runs (continue-as-new included). */
    fleetHistoryEvents: number;
  };
  worker: { cpuSeconds: number; peakRssMb: number; rssAfterMb: number };
}

export interface FleetBenchResult {
  clusters: number;
  concurrency: number;
  writeIntervalMs: number;
  ackedWrites: number;
  lostWrites: number;
  perServer: FleetServerResult[];
}

const GAP_MARGIN_MS = 200;

export async function runFleetBench(o: FleetBenchOptions): Promise<FleetBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isInteger(o.clusters) || o.clusters < 2 || o.clusters > 60)
    throw new Error(`--clusters ${o.clusters}: expected 2 to 60`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
    throw new Error(`--concurrency ${o.concurrency}: expected a positive integer`);
  const cleanup: (() => Promise<unknown>)[] = [];
  const labDir = mkdtempSync(join(tmpdir(), 'sofleet-'));
  cleanup.push(async () => {
    await labDown({ dir: labDir, log }).catch((e: Error) => log(`lab down: ${e.message}`));
    rmSync(labDir, { recursive: true, force: true });
  });
  try {
    const prefix = `sof${randomBytes(2).toString('hex')}`;
    const subnet = await freeSubnet();
    log(`fleet lab ${prefix} (${subnet}): ${o.clusters} clusters of 2 hosts in ${labDir}`);
    const t0 = Date.now();
    const info = await labUp({ clusters: o.clusters, hosts: 2, mode: 'netns', prefix, subnet, dir: labDir });
    log(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const clusters = info.clusters ?? [];
    const writers = new Map<string, Writer>();
    for (const c of clusters) {
      const w = writerFor(info, c, o.writeIntervalMs);
      await w.start();
      writers.set(c.name, w);
      cleanup.push(() => w.stop());
    }
    await sleep(1000);
    const perServer: FleetServerResult[] = [];
    for (const server of o.servers) perServer.push(await benchOnServer(o, server, info, writers, log));
    let lost = 0;
    let acked = 0;
    const status = await labStatus({ dir: labDir });
    for (const c of status.clusters) {
      const w = writers.get(c.name)!;
      await w.stop();
      acked += w.acked.length;
      const primary = c.hosts.filter((h) => h.role === 'primary');
      if (primary.length !== 1) throw new Error(`${c.name}: ${primary.length} primaries at the end`);
      lost += (await lostThrough(info, primary[0].name, w)).length;
    }
    return {
      clusters: o.clusters,
      concurrency: o.concurrency,
      writeIntervalMs: o.writeIntervalMs,
      ackedWrites: acked,
      lostWrites: lost,
      perServer,
    };
  } finally {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  }
}

async function benchOnServer(
  o: FleetBenchOptions,
  server: FleetServer,
  info: LabInfo,
  writers: Map<string, Writer>,
  log: (l: string) => void,
): Promise<FleetServerResult> {
  const dir = mkdtempSync(join(tmpdir(), `sofleet-${server}-`));
  const stops: (() => Promise<unknown>)[] = [
    () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  ];
  const clusters = info.clusters ?? [];
  const result: FleetServerResult = {
    server,
    ok: false,
    single: { runs: 0, failedRuns: 0, clientGapMs: summarize([]) },
    fleet: {
      ended: null,
      counts: null,
      wholeMs: 0,
      clientGapMs: { ...summarize([]), p99: 0 },
      blackoutMs: summarize([]),
      gapRatioP50: null,
      historyEventsPerChild: summarize([]),
      fleetHistoryEvents: 0,
    },
    worker: { cpuSeconds: 0, peakRssMb: 0, rssAfterMb: 0 },
  };
  try {
    const started = Date.now();
    const address =
      server === 'dev'
        ? (
            await startDevServer({
              dataDir: dir,
              port: await freePort(),
              headless: true,
              tiedToProcess: true,
            })
          ).address
        : (
            await startPostgresTemporal({
              dataDir: dir,
              port: await freePort(),
              headless: true,
              tiedToProcess: true,
            })
          ).address;
    stops.push(() => (server === 'dev' ? stopDevServer(dir) : stopPostgresTemporal(dir, { purge: true })));
    log(`${server}: Temporal at ${address} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const connection = await Connection.connect({ address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = `bench-fleet-${randomUUID()}`;
    const worker = await startWorkerProcess({
      inventory: info.inventory,
      taskQueue,
      address,
      logFile: join(dir, 'worker.log'),
    });
    stops.push(() => worker.stop());

    // 1. One cluster alone, under every writer: the gap to compare the fleet's with.
    const first = clusters[0];
    const single: number[] = [];
    for (let i = 0; i < o.singleRuns; i++) {
      const w = writers.get(first.name)!;
      const t0 = Date.now();
      try {
        const run = await startRunbook<PlannedSuccessoverResult>(client, {
          runbook: RUNBOOKS.planned,
          workflow: plannedSuccessover,
          cluster: first.name,
          input: { cluster: first.name },
          summary: `bench: ${first.name} alone`,
          taskQueue,
        });
        await run.result;
        await sleep(GAP_MARGIN_MS);
        single.push(w.maxGapMs(t0, Date.now()));
      } catch (e) {
        result.single.failedRuns++;
        log(`${server}: single run ${i + 1} on ${first.name} failed: ${failureReason(e).message}`);
      }
      await sleep(500);
    }
    result.single = {
      runs: o.singleRuns,
      failedRuns: result.single.failedRuns,
      clientGapMs: summarize(single),
    };
    log(`${server}: ${first.name} alone, client gap p50 ${result.single.clientGapMs.p50} ms`);

    // 2. The fleet.
    const cpu0 = cpuSeconds(worker.pid);
    const t0 = Date.now();
    const handle = await client.workflow.start(fleet, {
      workflowId: fleetWorkflowId('planned', `bench-${server}`),
      taskQueue,
      args: [{ runbook: 'planned', selector: 'fleet=lab', concurrency: o.concurrency, maxFailures: 1 }],
    });
    const r = await handle.result();
    const whole = Date.now() - t0;
    await sleep(GAP_MARGIN_MS);
    const gaps: number[] = [];
    const events: number[] = [];
    for (const c of clusters) {
      const d = await client.workflow.getHandle(workflowIdFor(RUNBOOKS.planned, c.name)).describe();
      events.push(d.historyLength);
      const from = d.startTime.getTime();
      const to = (d.closeTime?.getTime() ?? Date.now()) + GAP_MARGIN_MS;
      gaps.push(writers.get(c.name)!.maxGapMs(from, to));
    }
    const fleetRun = await handle.describe();
    const blackouts = r.clusters.map((x) => x.blackoutMs).filter((x): x is number => typeof x === 'number');
    const g = summarize(gaps);
    result.fleet = {
      ended: r.ended,
      counts: r.counts,
      wholeMs: whole,
      clientGapMs: { ...g, p99: percentile(gaps, 99) },
      blackoutMs: summarize(blackouts),
      gapRatioP50: result.single.clientGapMs.p50 ? round2(g.p50 / result.single.clientGapMs.p50) : null,
      historyEventsPerChild: summarize(events),
      fleetHistoryEvents: fleetRun.historyLength,
    };
    result.worker = {
      cpuSeconds: round2(cpuSeconds(worker.pid) - cpu0),
      peakRssMb: memoryMb(worker.pid, 'VmHWM'),
      rssAfterMb: memoryMb(worker.pid, 'VmRSS'),
    };
    result.ok = r.ok;
    log(
      `${server}: fleet of ${clusters.length} at concurrency ${o.concurrency} ${r.ended} in ${whole} ms; ` +
        `client gap p50 ${g.p50} / p99 ${result.fleet.clientGapMs.p99} ms (alone ${result.single.clientGapMs.p50}); ` +
        `worker ${result.worker.cpuSeconds} CPU s, peak RSS ${result.worker.peakRssMb} MB`,
    );
  } catch (e) {
    result.error = failureReason(e).message;
    log(`${server}: FAILED: ${result.error}`);
  } finally {
    for (const fn of stops.reverse()) await fn().catch((e: Error) => log(`${server} teardown: ${e.message}`));
  }
  return result;
}

function writerFor(info: LabInfo, c: LabCluster, intervalMs: number): Writer {
  return Writer.forLab({ ...info, writer: c.writer }, { intervalMs, connectTimeoutMs: 100 });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
