// The emergency-recovery benchmark: kill -9 the primary under a writer committing through the VIP
// every 2 ms and measure, per run, the time from the trigger (the alert reaching successover, or
// the kill itself for the built-in detector) to the writer's first acknowledged write on the new
// primary. At the end, every acknowledged write is looked for on the final primary.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Client } from '@temporalio/client';
import { failureReason } from '../cli/runbooks';
import type { CatchUpPlan } from '../domain/emergency';
import type { EmergencyRecoveryInput, EmergencyRecoveryResult } from '../domain/runbook';
import { RUNBOOKS } from '../domain/runbook';
import { labKill, labStart, type LabInfo } from '../lab/index';
import { SCRAPE_SECONDS } from '../lab/alerting';
import { withRoot } from '../lab/mariadb';
import { freePort } from '../temporal/devserver';
import { startEmergencyRecovery } from '../triggers/start';
import { startReceiver } from '../webhook/main';
import { detectorId, workflowIdFor } from '../workflows/api';
import { detector } from '../workflows/detector';
import { rejoin as rejoinRunbook } from '../workflows/rejoin';
import { runEmergencyFloor, type EmergencyFloorResult } from './floor';
import { ratio, splitLost } from './floorPlan';
import {
  benchLogger,
  currentPrimary,
  firstAckAfter,
  lostThrough,
  sleep,
  withBenchLab,
  type BenchLab,
} from './harness';
import { rejoinAt } from './rejoin';
import { killTime, phaseOfRun } from './scrapePhase';
import { summarize, type Summary } from './stats';

export type EmergencyTrigger = 'direct' | 'detector' | 'webhook' | 'alertmanager';
export const TRIGGERS: readonly EmergencyTrigger[] = ['direct', 'detector', 'webhook', 'alertmanager'];

export interface EmergencyBenchOptions {
  runs: number;
  hosts: number;
  trigger: EmergencyTrigger;
  semiSync: boolean;
  /**
   * The replicas' IO threads stopped for a second before each kill, the writer still acknowledged
   * by the primary alone: the writes only its binary log holds (issue 17).
   */
  replicasBehind?: boolean;
  /** policy.salvageSeconds as the inventory says (default 30), or 0. Default true. */
  salvage?: boolean;
  keepLab?: boolean;
  /**
   * Runs of the direct-script floor (bench/floor.ts) after the project's, on the same lab under
   * the same writer; default `runs`, 0 for none.
   */
  floorRuns?: number;
  log?: (line: string) => void;
}

export interface EmergencyRunSample {
  run: number;
  killed: string;
  promoted: string | null;
  ok: boolean;
  error?: string;
  /** Trigger -> first acknowledged write after the kill. */
  recoveryMs: number | null;
  /** Kill -> the recovery started (the detector's detection; ~0 for a webhook posted at once). */
  detectionMs: number | null;
  /** Kill -> the alert reached the receiver (alerting triggers). */
  killToAlertMs: number | null;
  /** Kill -> Prometheus's rule fired (its activeAt; the rest of killToAlertMs is the sending). */
  killToFiringMs: number | null;
  /**
   * Alertmanager trigger: where in the primary's scrape cycle the kill fell (0 = as a scrape began,
   * 0.99 = just before the next). Run i of n is killed at (i + 0.5) / n of it.
   */
  scrapePhase?: number;
  /** Kill -> first acknowledged write on the new primary. */
  killToFirstAckMs: number | null;
  /** The workflow's own figure: trigger -> new primary writable with the traffic. */
  workflowRecoveryMs: number | null;
  /** Milliseconds of each workflow step, in order (repeated steps summed). */
  steps: Record<string, number>;
  /** Each step as the run's timeline has it, from the kill: what ran at once and what waited. */
  timeline: { step: string; atMs: number; ms: number | null }[];
  /** What the salvage step did, and how many transactions it applied. */
  salvage: string | null;
  salvaged: number;
}

export interface EmergencyBenchResult {
  runs: number;
  failedRuns: number;
  trigger: EmergencyTrigger;
  semiSync: boolean;
  replicasBehind: boolean;
  salvage: boolean;
  /** Transactions salvaged over all runs, and the salvage step's time. */
  salvagedTransactions: number;
  salvageMs: Summary;
  /** Trigger (alert arrival, or the kill for the detector) -> first acknowledged write. */
  recoveryMs: Summary;
  detectionMs: Summary;
  killToAlertMs: Summary | null;
  /** The same as recoveryMs for the alerting triggers, named as issue #8 does. */
  alertToRecoveredMs: Summary | null;
  killToFiringMs: Summary | null;
  killToFirstAckMs: Summary;
  ackedWrites: number;
  /**
   * The project's runs' (checked before the floor's runs when there are some); null when the bench
   * ended with no single primary to count them on.
   */
  lostAckedWrites: number | null;
  finalPrimary: string | null;
  perRun: EmergencyRunSample[];
  /** The direct script on the same lab, same run (its lost writes apart); null when it did not run. */
  floor: EmergencyFloorResult | null;
  /** project p50 / floor p50. */
  ratio: { killToFirstAckP50: number | null } | null;
}

const PAUSE_MS = 1500;

export async function runEmergencyBench(o: EmergencyBenchOptions): Promise<EmergencyBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isInteger(o.runs) || o.runs < 1)
    throw new Error(`--runs ${o.runs}: expected a positive integer`);
  if (o.floorRuns !== undefined && (!Number.isInteger(o.floorRuns) || o.floorRuns < 0))
    throw new Error(`--floor-runs ${o.floorRuns}: expected 0 or a positive integer`);
  if (!TRIGGERS.includes(o.trigger))
    throw new Error(`--trigger ${o.trigger}: expected ${TRIGGERS.join(', ')}`);
  const alerting = o.trigger === 'alertmanager';
  const webhookPort = await freePort();
  const salvage = o.salvage ?? true;
  // Off: the worker reads an inventory whose policy says so, as a user would turn it off.
  const prepare = async (info: LabInfo) => {
    if (!salvage) setSalvageSeconds(info.inventory, 0);
    return info;
  };
  return withBenchLab(
    { hosts: o.hosts, semiSync: o.semiSync, keepLab: o.keepLab, alerting, webhookPort, log, prepare },
    async (lab) => {
      const { info, labDir, client, taskQueue, writer } = lab;
      const receiver =
        o.trigger === 'webhook' || alerting
          ? await startReceiver({
              inventoryPath: info.inventory,
              port: webhookPort,
              taskQueue,
              env: {
                ...process.env,
                TEMPORAL_ADDRESS: lab.temporal.address,
                TEMPORAL_NAMESPACE: lab.temporal.namespace,
              },
              logger: benchLogger(),
            })
          : undefined;
      const perRun: EmergencyRunSample[] = [];
      try {
        await sleep(PAUSE_MS);
        for (let i = 0; i < o.runs && !lab.interrupted(); i++) {
          const primary = await currentPrimary(labDir);
          if (!primary) throw new Error('no single primary in the bench lab: cannot go on');
          const sample: EmergencyRunSample = {
            run: i + 1,
            killed: primary,
            promoted: null,
            ok: false,
            recoveryMs: null,
            detectionMs: null,
            killToAlertMs: null,
            killToFiringMs: null,
            killToFirstAckMs: null,
            workflowRecoveryMs: null,
            steps: {},
            timeline: [],
            salvage: null,
            salvaged: 0,
          };
          const watching =
            o.trigger === 'detector'
              ? await client.workflow.start(detector, {
                  taskQueue,
                  workflowId: detectorId(info.cluster),
                  args: [
                    { cluster: info.cluster, primary, intervalSeconds: 0.5, probes: 3, cooldownSeconds: 60 },
                  ],
                })
              : undefined;
          try {
            if (watching) await sleep(1000); // probing
            if (alerting) await seenWritable(info, primary);
            const replicas = info.hosts.map((h) => h.name).filter((h) => h !== primary);
            if (o.replicasBehind) {
              await onHosts(info, replicas, 'STOP SLAVE IO_THREAD');
              await sleep(1000);
            }
            if (alerting) sample.scrapePhase = await atScrapePhase(info, primary, phaseOfRun(i, o.runs));
            const killedAt = Date.now();
            await labKill(primary, { dir: labDir });
            if (o.replicasBehind) await onHosts(info, replicas, 'START SLAVE IO_THREAD');
            if (o.trigger === 'direct') await startDirect(client, taskQueue, info, Date.now());
            if (o.trigger === 'webhook') await postAlert(receiver!.url, info, primary);
            const run = await recoveryAfter(client, info.cluster, killedAt);
            const startedAt = run.startedAt;
            const r = await run.result;
            // The trigger: when the alert reached successover (the run's first timeline entry), or the kill.
            const received = r.timeline[0]?.step.endsWith(' received')
              ? Date.parse(r.timeline[0].start)
              : null;
            const triggeredAt = o.trigger === 'detector' || received === null ? killedAt : received;
            if (o.trigger !== 'detector') sample.killToAlertMs = triggeredAt - killedAt;
            if (alerting) sample.killToFiringMs = (await firedAt(info, primary, killedAt)) - killedAt;
            if (r.outcome !== 'recovered') throw new Error(`the recovery ended as ${r.outcome}: ${r.reason}`);
            sample.promoted = r.newPrimary;
            sample.workflowRecoveryMs = r.recoveryMs;
            sample.salvage = r.salvage ? `${r.salvage.status}: ${r.salvage.detail}` : null;
            sample.salvaged = r.salvage?.salvaged?.count ?? 0;
            for (const step of r.timeline)
              if (step.ms !== undefined) sample.steps[step.step] = (sample.steps[step.step] ?? 0) + step.ms;
            sample.timeline = r.timeline.map((s) => ({
              step: s.host ? `${s.step} ${s.host}` : s.step,
              atMs: Date.parse(s.start) - killedAt,
              ms: s.ms ?? null,
            }));
            const first = await firstAckAfter(writer, killedAt, 10_000);
            if (first === null) throw new Error('no acknowledged write within 10 s of the recovery');
            sample.recoveryMs = first - triggeredAt;
            sample.killToFirstAckMs = first - killedAt;
            sample.detectionMs = startedAt - killedAt;
            sample.ok = true;
            await rejoinKilled(lab, primary, r);
            log(
              `run ${sample.run}: killed ${primary} → ${r.newPrimary}: recovery ${sample.recoveryMs} ms (workflow ${r.recoveryMs} ms), detection ${sample.detectionMs} ms`,
            );
          } catch (e) {
            sample.error = failureReason(e).message;
            log(`run ${sample.run}: killed ${primary} FAILED: ${sample.error}`);
          } finally {
            await watching?.terminate('bench run over').catch(() => undefined);
          }
          perRun.push(sample);
          if (!sample.ok) break;
          await sleep(PAUSE_MS);
        }
      } finally {
        await receiver?.close();
      }

      // The floor: the same recovery by a direct script, after the project's runs (and with no
      // trigger of the project's left to react to its kills), under the same writer.
      const floorRuns = o.floorRuns ?? o.runs;
      let floor: EmergencyFloorResult | null = null;
      let lostBeforeFloor: number[] | null = null;
      const projectOk = perRun.length > 0 && perRun.every((r) => r.ok);
      const floorFrom = floorRuns > 0 && projectOk ? await currentPrimary(labDir) : null;
      if (floorFrom && !lab.interrupted()) {
        lostBeforeFloor = await lostThrough(info, floorFrom, writer, writer.acked.length);
        log(`direct-script floor: ${floorRuns} runs from ${floorFrom}`);
        floor = await runEmergencyFloor(lab, floorFrom, { runs: floorRuns, pauseMs: PAUSE_MS, log, client });
      } else if (floorRuns > 0)
        log(`direct-script floor skipped: ${projectOk ? 'no single primary' : 'a project run failed'}`);
      await writer.stop();

      const finalPrimary = await currentPrimary(labDir);
      const lostAtEnd = finalPrimary ? await lostThrough(info, finalPrimary, writer) : [];
      // With the floor, the project's are those already missing before it ran; the floor's apart.
      const split = lostBeforeFloor ? splitLost(lostBeforeFloor, lostAtEnd) : null;
      const lost = split ? split.project : lostAtEnd;
      if (floor && split && finalPrimary) floor.lostWrites = split.floor.length;
      if (!finalPrimary) log('no single primary at the end: lost acknowledged writes not counted');
      else if (lost.length)
        log(`LOST acknowledged writes: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? ' …' : ''}`);
      if (split?.floor.length)
        log(
          `direct-script floor lost ${split.floor.length} acknowledged writes: ${split.floor.slice(0, 20).join(', ')}${split.floor.length > 20 ? ' …' : ''}`,
        );
      const ok = perRun.filter((r) => r.ok);
      const killToFirstAckMs = summarize(ok.map((r) => r.killToFirstAckMs ?? 0));
      return {
        runs: perRun.length,
        failedRuns: perRun.length - ok.length,
        trigger: o.trigger,
        semiSync: o.semiSync,
        replicasBehind: o.replicasBehind ?? false,
        salvage,
        salvagedTransactions: ok.reduce((n, r) => n + r.salvaged, 0),
        salvageMs: summarize(ok.map((r) => r.steps.salvage ?? 0)),
        recoveryMs: summarize(ok.map((r) => r.recoveryMs ?? 0)),
        detectionMs: summarize(ok.map((r) => r.detectionMs ?? 0)),
        killToAlertMs:
          alerting || o.trigger === 'webhook' ? summarize(ok.map((r) => r.killToAlertMs ?? 0)) : null,
        alertToRecoveredMs:
          alerting || o.trigger === 'webhook' ? summarize(ok.map((r) => r.recoveryMs ?? 0)) : null,
        killToFiringMs: alerting ? summarize(ok.map((r) => r.killToFiringMs ?? 0)) : null,
        killToFirstAckMs,
        ackedWrites: writer.acked.length,
        lostAckedWrites: finalPrimary || lostBeforeFloor ? lost.length : null,
        finalPrimary,
        perRun,
        floor,
        ratio: floor ? { killToFirstAckP50: ratio(killToFirstAckMs.p50, floor.killToFirstAckMs.p50) } : null,
      };
    },
  );
}

/** An Alertmanager v4 notification, as the shipped rule and receiver config send it. */
async function postAlert(url: string, info: LabInfo, primary: string): Promise<void> {
  const token = readFileSync(info.secrets.webhookTokenFile, 'utf8').trim();
  const labels = {
    alertname: 'MariaDBPrimaryDown',
    cluster: info.cluster,
    instance: primary,
    severity: 'critical',
  };
  const r = await fetch(`${url}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'successover',
      groupLabels: { cluster: info.cluster, alertname: labels.alertname },
      commonLabels: labels,
      alerts: [
        {
          status: 'firing',
          labels,
          startsAt: new Date().toISOString(),
          fingerprint: randomBytes(8).toString('hex'),
        },
      ],
    }),
  });
  if (r.status !== 202) throw new Error(`the receiver answered ${r.status}: ${await r.text()}`);
}

/** When Prometheus's primary-down rule started firing for `host` (after `since`). */
async function firedAt(info: LabInfo, host: string, since: number): Promise<number> {
  const r = await fetch(`${info.alerting!.prometheus}/api/v1/alerts`);
  const { data } = (await r.json()) as {
    data: { alerts: { labels: Record<string, string>; activeAt: string }[] };
  };
  const at = data.alerts
    .filter((a) => a.labels.alertname === 'MariaDBPrimaryDown' && a.labels.instance === host)
    .map((a) => Date.parse(a.activeAt))
    .filter((t) => t >= since - 1000);
  if (!at.length) throw new Error(`Prometheus shows no MariaDBPrimaryDown alert for ${host}`);
  return Math.min(...at);
}

/**
 * Returns at `phase` (0-1) of a scrape interval after a scrape of `host` began. Kill → firing is
 * mostly the wait for the next scrape, and a failure falls anywhere in the cycle. Left alone, the
 * runs of one bench keep nearly the same phase (each run lasts about as long as the one before),
 * so their kill → firing would measure one phase, not the spread an operator sees; the runs are
 * spread evenly over the cycle instead. Prometheus scrapes a target at a fixed offset within its
 * interval, so the last scrape's start predicts the next ones.
 */
async function atScrapePhase(info: LabInfo, host: string, phase: number): Promise<number> {
  const r = await fetch(`${info.alerting!.prometheus}/api/v1/targets?state=active`);
  const { data } = (await r.json()) as {
    data: { activeTargets: { labels: Record<string, string>; lastScrape: string }[] };
  };
  const target = data.activeTargets.find((t) => t.labels.job === 'mysql' && t.labels.instance === host);
  const last = target ? Date.parse(target.lastScrape) : NaN;
  if (!Number.isFinite(last)) throw new Error(`Prometheus has no scrape of ${host}'s exporter yet`);
  await sleep(killTime(last, SCRAPE_SECONDS * 1000, phase, Date.now()) - Date.now());
  return Math.round(phase * 100) / 100;
}

/** The shipped rule fires only for a node Prometheus saw writable: wait for that sample. */
async function seenWritable(info: LabInfo, host: string): Promise<void> {
  const q = encodeURIComponent(`mysql_global_variables_read_only{instance="${host}"} == 0`);
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${info.alerting!.prometheus}/api/v1/query?query=${q}`);
    if (((await r.json()) as { data: { result: unknown[] } }).data.result.length) return;
    await sleep(100);
  }
  throw new Error(`Prometheus never saw ${host} writable`);
}

function startDirect(client: Client, taskQueue: string, info: LabInfo, at: number) {
  const input: EmergencyRecoveryInput = {
    cluster: info.cluster,
    reason: 'bench: primary killed',
    source: { kind: 'cli', receivedAt: new Date(at).toISOString() },
  };
  return startEmergencyRecovery(client, taskQueue, input);
}

/** The emergency-recovery run started after `since`, whoever started it. */
async function recoveryAfter(client: Client, cluster: string, since: number) {
  const id = workflowIdFor(RUNBOOKS.emergency, cluster);
  for (let i = 0; i < 300; i++) {
    const d = await client.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    if (d && d.startTime.getTime() >= since - 1000)
      return {
        startedAt: d.startTime.getTime(),
        result: client.workflow.getHandle(id, d.runId).result() as Promise<EmergencyRecoveryResult>,
      };
    await sleep(50);
  }
  throw new Error(`no ${id} run started within 15 s of the kill`);
}

async function onHosts(info: LabInfo, hosts: string[], sql: string): Promise<void> {
  await Promise.all(
    hosts.map((h) => withRoot(info.hosts.find((x) => x.name === h)!.socket, (c) => c.query(sql))),
  );
}

function setSalvageSeconds(inventoryPath: string, seconds: number): void {
  const doc = parse(readFileSync(inventoryPath, 'utf8')) as {
    clusters: { policy?: Record<string, unknown> }[];
  };
  for (const c of doc.clusters) c.policy = { ...c.policy, salvageSeconds: seconds };
  writeFileSync(inventoryPath, stringify(doc));
}

/**
 * The killed primary back as a replica of the new one, so the next run has every node. When the
 * salvage left it holding nothing the new primary lacks, the product's own rejoin runbook takes
 * it back; otherwise the bench-only way below.
 */
async function rejoinKilled(lab: BenchLab, host: string, r: EmergencyRecoveryResult): Promise<void> {
  await labStart(host, { dir: lab.labDir });
  if (r.salvage?.status === 'salvaged' || r.salvage?.status === 'nothing') {
    const done = await lab.client.workflow
      .execute(rejoinRunbook, {
        taskQueue: lab.taskQueue,
        workflowId: `${workflowIdFor(RUNBOOKS.rejoin, lab.info.cluster)}/${host}`,
        args: [{ cluster: lab.info.cluster, host, lockWaitSeconds: 30 }],
      })
      .then(
        () => true,
        () => false,
      );
    if (done) return;
  }
  await rejoin(lab.info, host, r);
}

/** Bench only: the killed primary back as a replica of the new one (bench/rejoin.ts). */
function rejoin(info: LabInfo, host: string, r: EmergencyRecoveryResult): Promise<void> {
  return rejoinAt(info, host, r.newPrimary as string, (r.catchUp as CatchUpPlan).expected);
}
