// The emergency-recovery benchmark: kill -9 the primary under a writer committing through the VIP
// every 2 ms and measure, per run, the time from the trigger (the alert reaching successover, or
// the kill itself for the built-in detector) to the writer's first acknowledged write on the new
// primary. At the end, every acknowledged write is looked for on the final primary.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { RowDataPacket } from 'mysql2/promise';
import { failureReason } from '../cli/runbooks';
import type { CatchUpPlan } from '../domain/emergency';
import {
  formatMariadbGtidList,
  mariadbStateUpTo,
  parseMariadbGtidPos,
  parseMariadbGtidState,
} from '../domain/gtid';
import type { EmergencyRecoveryInput, EmergencyRecoveryResult } from '../domain/runbook';
import { RUNBOOKS } from '../domain/runbook';
import { ACCOUNT_NAMES, labKill, labStart, type LabInfo } from '../lab/index';
import { replicateFrom, withRoot } from '../lab/mariadb';
import { freePort } from '../temporal/devserver';
import { startEmergencyRecovery } from '../triggers/start';
import { startReceiver } from '../webhook/main';
import { detectorId, workflowIdFor } from '../workflows/api';
import { detector } from '../workflows/detector';
import { rejoin as rejoinRunbook } from '../workflows/rejoin';
import { currentPrimary, lostThrough, sleep, withBenchLab, type BenchLab } from './harness';
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
  /** Kill -> first acknowledged write on the new primary. */
  killToFirstAckMs: number | null;
  /** The workflow's own figure: trigger -> new primary writable with the traffic. */
  workflowRecoveryMs: number | null;
  /** Milliseconds of each workflow step, in order (repeated steps summed). */
  steps: Record<string, number>;
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
  /** null when the bench ended with no single primary to count them on. */
  lostAckedWrites: number | null;
  finalPrimary: string | null;
  perRun: EmergencyRunSample[];
}

const PAUSE_MS = 1500;

export async function runEmergencyBench(o: EmergencyBenchOptions): Promise<EmergencyBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isInteger(o.runs) || o.runs < 1)
    throw new Error(`--runs ${o.runs}: expected a positive integer`);
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
              logger: pino({ level: 'warn' }),
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
            const first = await firstAckAfter(lab, killedAt, 10_000);
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
        await writer.stop();
      } finally {
        await receiver?.close();
      }
      const finalPrimary = await currentPrimary(labDir);
      const lost = finalPrimary ? await lostThrough(info, finalPrimary, writer) : [];
      if (!finalPrimary) log('no single primary at the end: lost acknowledged writes not counted');
      else if (lost.length)
        log(`LOST acknowledged writes: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? ' …' : ''}`);
      const ok = perRun.filter((r) => r.ok);
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
        killToFirstAckMs: summarize(ok.map((r) => r.killToFirstAckMs ?? 0)),
        ackedWrites: writer.acked.length,
        lostAckedWrites: finalPrimary ? lost.length : null,
        finalPrimary,
        perRun,
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

/**
 * The first acknowledged write after the outage began: after the writer's first failure following
 * the kill (an ack timestamped just after the kill may belong to a write the old primary took).
 */
async function firstAckAfter(lab: BenchLab, t: number, waitMs: number): Promise<number | null> {
  const { writer } = lab;
  for (let waited = 0; waited <= waitMs; waited += 50) {
    const failed = writer.failedAt.find((x) => x >= t);
    const a = failed === undefined ? undefined : writer.acked.find((x) => x.at > failed);
    if (a) return a.at;
    await sleep(50);
  }
  return null;
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

/**
 * Bench only: the killed primary comes back as a replica of the new one so the next run has three
 * nodes. It forgets its own binlog (what it committed that nobody received, never acknowledged
 * with semi-sync) and resumes from the position the new primary was promoted at. In production
 * the old primary is left fenced and rejoined by a provisioning run.
 */
async function rejoin(info: LabInfo, host: string, r: EmergencyRecoveryResult) {
  const source = info.hosts.find((h) => h.name === r.newPrimary)!;
  const at = (r.catchUp as CatchUpPlan).expected;
  const password = readFileSync(info.secrets.replicationPasswordFile, 'utf8').trim();
  await withRoot(info.hosts.find((h) => h.name === host)!.socket, async (c) => {
    // Its binlog may hold writes past `at` that nobody received: drop them, but keep the other
    // servers' history, or the next recovery would see the replicas' GTIDs from them as errant.
    const [[{ state }]] = await c.query<RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_state AS state');
    const cut = formatMariadbGtidList(
      mariadbStateUpTo(parseMariadbGtidState(String(state)), parseMariadbGtidPos(at)),
    );
    await c.query('STOP SLAVE');
    await c.query('RESET SLAVE ALL');
    await c.query('RESET MASTER');
    await c.query('SET GLOBAL gtid_binlog_state = ?', [cut]);
    await c.query('SET GLOBAL gtid_slave_pos = ?', [at]);
    await replicateFrom(
      c,
      { host: source.address, port: source.port },
      { user: ACCOUNT_NAMES.replication, password },
    );
  });
}
