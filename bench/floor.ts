// The direct-script floor: what a DBA's script does for the same switch, run on the same bench lab
// under the same writer right after the project's runs, so the project's figures can be read
// against it. Its connections (mysql2, admin account over TCP, as a script would) are open and its
// SSH pool warm before each run starts; it has no lock, no preflight, no engine round trip and no
// verification. The VIP moves through the project's own VipRouter commands (ip addr add/del and
// the background gratuitous ARP), so the floor pays exactly the same price for the traffic.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { SshPool } from '../activities/ssh';
import { createRouter, type TrafficRouter } from '../activities/traffic/router';
import { dialectFor, killableSessions, type Probe, type Row, type Statement } from '../domain/dialects';
import type { Cluster } from '../domain/inventory';
import { ACCOUNT_NAMES, labKill, labStart, type LabInfo } from '../lab/index';
import { fenceWatchId } from '../workflows/api';
import { loadInventory } from '../worker/loadInventory';
import { firstAckAfter, sleep, type BenchLab } from './harness';
import { alternate, mostAdvanced, ProbeCounter, summarizeOk, type ReplicaPosition } from './floorPlan';
import { rejoinAt } from './rejoin';
import type { Summary } from './stats';

const d = dialectFor('mariadb');
const ER_NO_SUCH_THREAD = 1094;
/** Acks that land just after the script returned still belong to its run (as bench/planned.ts). */
const GAP_MARGIN_MS = 200;
/** Bound on the target's wait for the old primary's final position (planned). */
const WAIT_SECONDS = 10;
/** Bound on the promoted replica's wait for its own relay log (emergency). */
const RELAY_WAIT_SECONDS = 5;

export interface PlannedFloorSample {
  run: number;
  from: string;
  to: string;
  ok: boolean;
  error?: string;
  /** Longest gap between two acknowledged writes over the run (bench/planned.ts's clientGapMs). */
  clientGapMs: number;
  /** read_only=1 on the old primary → the target writable with the VIP. */
  blackoutMs: number | null;
  failedWrites: number;
  totalMs: number;
  /** Milliseconds of each step. */
  steps: Record<string, number>;
}

export interface PlannedFloorResult {
  runs: number;
  failedRuns: number;
  clientGapMs: Summary;
  blackoutMs: Summary;
  /**
   * Acknowledged writes that went missing during the floor's runs (set by the caller); null when
   * the end had no single primary to count them on.
   */
  lostWrites: number | null;
  perRun: PlannedFloorSample[];
}

export interface EmergencyFloorSample {
  run: number;
  killed: string;
  promoted: string | null;
  ok: boolean;
  error?: string;
  /** Kill → third failed probe. */
  detectionMs: number | null;
  /** Kill → the new primary writable with the VIP. */
  scriptMs: number | null;
  /** Kill → first acknowledged write (bench/emergency.ts's killToFirstAckMs). */
  killToFirstAckMs: number | null;
  /** The relay-log wait ran out (the script promotes anyway). */
  relayWaitTimedOut: boolean;
  steps: Record<string, number>;
}

export interface EmergencyFloorResult {
  runs: number;
  failedRuns: number;
  killToFirstAckMs: Summary;
  detectionMs: Summary;
  /**
   * Acknowledged writes that went missing during the floor's runs (set by the caller); null when
   * the end had no single primary to count them on.
   */
  lostWrites: number | null;
  perRun: EmergencyFloorSample[];
}

export interface FloorOptions {
  runs: number;
  pauseMs: number;
  log: (line: string) => void;
}

/** The script's tools: one admin connection per host, the SSH pool and the VIP commands. */
class Script {
  private readonly conns = new Map<string, Connection>();
  readonly protectedUsers: string[] = [ACCOUNT_NAMES.admin, ACCOUNT_NAMES.replication];
  readonly replPassword: string;
  private readonly adminPassword: string;

  private constructor(
    readonly info: LabInfo,
    readonly cluster: Cluster,
    readonly ssh: SshPool,
    readonly router: TrafficRouter,
  ) {
    this.adminPassword = readFileSync(info.secrets.mysqlPasswordFile, 'utf8').trim();
    this.replPassword = readFileSync(info.secrets.replicationPasswordFile, 'utf8').trim();
  }

  static open(info: LabInfo): Script {
    if (!info.vip || !info.secrets.sshPrivateKeyFile)
      throw new Error('the direct-script floor needs the VIP lab (netns mode, VIP moved over SSH)');
    const cluster = loadInventory(info.inventory).clusters.find((c) => c.name === info.cluster);
    if (!cluster) throw new Error(`no cluster ${info.cluster} in ${info.inventory}`);
    const ssh = new SshPool({
      user: 'root',
      privateKey: readFileSync(info.secrets.sshPrivateKeyFile),
      connectTimeoutMs: 3000,
    });
    return new Script(info, cluster, ssh, createRouter(cluster, { ssh, commandTimeoutMs: 5000 }));
  }

  host(name: string) {
    const h = this.info.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  admin(connectTimeout: number, host: string): Promise<Connection> {
    const h = this.host(host);
    return createConnection({
      host: h.address,
      port: h.port,
      user: ACCOUNT_NAMES.admin,
      password: this.adminPassword,
      connectTimeout,
    });
  }

  /** Before a run: a live connection to each host named, and every SSH shell open. */
  async ready(hosts: readonly string[]): Promise<void> {
    await Promise.all(
      hosts.map(async (h) => {
        const c = this.conns.get(h);
        if (
          c &&
          (await c.query('SELECT 1').then(
            () => true,
            () => false,
          ))
        )
          return;
        c?.destroy();
        this.conns.set(h, await this.admin(2000, h));
      }),
    );
    await this.ssh.warm(this.cluster.hosts, 10_000);
  }

  conn(host: string): Connection {
    const c = this.conns.get(host);
    if (!c) throw new Error(`no connection to ${host}`);
    return c;
  }

  drop(host: string): void {
    this.conns.get(host)?.destroy();
    this.conns.delete(host);
  }

  async close(): Promise<void> {
    for (const h of [...this.conns.keys()]) this.drop(h);
    await this.ssh.close().catch(() => undefined);
  }

  repoint(host: string, source: string, demote: boolean): Promise<void> {
    const s = this.host(source);
    return exec(
      this.conn(host),
      d.repoint({
        sourceHost: s.address,
        sourcePort: s.port,
        user: ACCOUNT_NAMES.replication,
        password: this.replPassword,
        demote,
        connectRetrySeconds: 1,
        heartbeatPeriodSeconds: 1,
      }),
    );
  }
}

async function exec(c: Connection, statements: Statement[]): Promise<void> {
  for (const s of statements) await c.query(s.sql);
}

async function probe<T>(c: Connection, p: Probe<T>): Promise<T> {
  const results: Row[][] = [];
  for (const s of p.statements) {
    const [rows] = await c.query<RowDataPacket[]>(s.sql);
    results.push(rows as Row[]);
  }
  return p.parse(results);
}

async function scalar(c: Connection, sql: string, values: unknown[] = []): Promise<unknown> {
  const [rows] = await c.query<RowDataPacket[]>(sql, values);
  return Object.values(rows[0] ?? {})[0];
}

/** Times each step of a run into `steps`. */
function stepper(steps: Record<string, number>) {
  return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      steps[name] = (steps[name] ?? 0) + Date.now() - t;
    }
  };
}

/**
 * Planned: read_only on the old primary, VIP off it, its client sessions killed once, the target
 * waits for the final position, is promoted and takes the VIP; then the old primary
 * (MASTER_DEMOTE_TO_SLAVE=1) and the other replicas follow it.
 */
export async function runPlannedFloor(
  lab: BenchLab,
  primary: string,
  o: FloorOptions,
): Promise<PlannedFloorResult> {
  const { info, writer } = lab;
  const names = info.hosts.map((h) => h.name);
  const script = Script.open(info);
  const perRun: PlannedFloorSample[] = [];
  try {
    for (const [i, leg] of alternate(names, primary, o.runs).entries()) {
      if (lab.interrupted()) break;
      const { from, to } = leg;
      const sample: PlannedFloorSample = {
        run: i + 1,
        from,
        to,
        ok: false,
        clientGapMs: 0,
        blackoutMs: null,
        failedWrites: 0,
        totalMs: 0,
        steps: {},
      };
      const step = stepper(sample.steps);
      await script.ready(names);
      const old = script.conn(from);
      const target = script.conn(to);
      const errorsBefore = writer.errors;
      const t0 = Date.now();
      try {
        await step('read-only', () => old.query('SET GLOBAL read_only=1'));
        await step('VIP off old primary', () => script.router.detach(from));
        await step('kill sessions', async () => {
          const list = await probe(old, d.sessions());
          for (const s of killableSessions(list, { protectedUsers: script.protectedUsers }))
            await old.query(d.kill(s.id).sql).catch((e: { errno?: number }) => {
              if (e.errno !== ER_NO_SUCH_THREAD) throw e;
            });
        });
        const pos = await step('final position', async () =>
          String(await scalar(old, 'SELECT @@GLOBAL.gtid_binlog_pos')),
        );
        const waited = await step('wait for target', async () =>
          Number(await scalar(target, 'SELECT MASTER_GTID_WAIT(?, ?)', [pos, WAIT_SECONDS])),
        );
        if (waited !== 0) {
          // As a careful script would: give the traffic back rather than lose writes.
          await script.router.attach(from).catch(() => undefined);
          await old.query('SET GLOBAL read_only=0');
          throw new Error(`${to} did not apply ${pos} within ${WAIT_SECONDS} s: switched back to ${from}`);
        }
        await step('promote', async () => {
          await target.query('STOP SLAVE');
          await target.query('RESET SLAVE ALL');
          await target.query('SET GLOBAL read_only=0');
        });
        await step('VIP on target', () => script.router.attach(to));
        sample.blackoutMs = Date.now() - t0;
        await step('repoint', () =>
          Promise.all(names.filter((h) => h !== to).map((h) => script.repoint(h, to, h === from))),
        );
        sample.ok = true;
      } catch (e) {
        sample.error = (e as Error).message;
      }
      const t1 = Date.now();
      sample.totalMs = t1 - t0;
      await sleep(GAP_MARGIN_MS);
      sample.clientGapMs = writer.maxGapMs(t0, t1 + GAP_MARGIN_MS);
      sample.failedWrites = writer.errors - errorsBefore;
      perRun.push(sample);
      o.log(
        sample.ok
          ? `floor run ${sample.run}: ${from} → ${to} blackout ${sample.blackoutMs} ms, client gap ${sample.clientGapMs} ms (${sample.failedWrites} failed attempts); ${formatSteps(sample.steps)}`
          : `floor run ${sample.run}: ${from} → ${to} FAILED: ${sample.error}`,
      );
      if (!sample.ok) break;
      await sleep(Math.max(0, o.pauseMs - GAP_MARGIN_MS));
    }
  } finally {
    await script.close();
  }
  return {
    runs: perRun.length,
    failedRuns: perRun.filter((r) => !r.ok).length,
    clientGapMs: summarizeOk(perRun, (r) => r.clientGapMs),
    blackoutMs: summarizeOk(perRun, (r) => r.blackoutMs ?? 0),
    lostWrites: null,
    perRun,
  };
}

export interface ProbeOptions {
  intervalMs: number;
  connectTimeoutMs: number;
  failures: number;
}

export const SCRIPT_PROBE: ProbeOptions = { intervalMs: 50, connectTimeoutMs: 100, failures: 3 };

/**
 * The script's detector: a new connection every intervalMs (start to start), each with a short
 * connect timeout; resolves when `failures` in a row failed, or null once `stop()` was called.
 */
function watchUntilDown(connect: (timeoutMs: number) => Promise<Connection>, o: ProbeOptions) {
  let stopped = false;
  const done = (async (): Promise<number | null> => {
    const counter = new ProbeCounter(o.failures);
    while (!stopped) {
      const t = Date.now();
      const ok = await connect(o.connectTimeoutMs).then(
        (c) => (c.destroy(), true),
        () => false,
      );
      if (counter.record(ok)) return Date.now();
      await sleep(Math.max(0, o.intervalMs - (Date.now() - t)));
    }
    return null;
  })();
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Emergency: kill -9 the primary; the script's probe calls it dead after three failed connects;
 * the replicas stop receiving, the most advanced one applies its relay log (bounded), is promoted
 * and takes the VIP; the other replicas follow it. The killed server then comes back as a replica
 * (bench only, bench/rejoin.ts).
 */
export async function runEmergencyFloor(
  lab: BenchLab,
  primary: string,
  o: FloorOptions & { client?: Client },
): Promise<EmergencyFloorResult> {
  const { info, writer, labDir } = lab;
  const names = info.hosts.map((h) => h.name);
  const script = Script.open(info);
  // A fence watch a project run left behind would act on the host the floor kills and restarts.
  if (o.client)
    for (const h of names)
      await o.client.workflow
        .getHandle(fenceWatchId(info.cluster, h))
        .terminate('bench floor: the direct script runs now')
        .catch(() => undefined);
  const perRun: EmergencyFloorSample[] = [];
  let current = primary;
  try {
    for (let i = 0; i < o.runs && !lab.interrupted(); i++) {
      const killed = current;
      const replicas = names.filter((h) => h !== killed);
      const sample: EmergencyFloorSample = {
        run: i + 1,
        killed,
        promoted: null,
        ok: false,
        detectionMs: null,
        scriptMs: null,
        killToFirstAckMs: null,
        relayWaitTimedOut: false,
        steps: {},
      };
      const step = stepper(sample.steps);
      await script.ready(names);
      const watch = watchUntilDown((ms) => script.admin(ms, killed), SCRIPT_PROBE);
      try {
        await sleep(300); // a few good probes first
        const killedAt = Date.now();
        await labKill(killed, { dir: labDir });
        const detectedAt = await Promise.race([watch.done, sleep(30_000).then(() => null)]);
        if (detectedAt === null) throw new Error(`the probe did not see ${killed} die within 30 s`);
        sample.detectionMs = detectedAt - killedAt;
        script.drop(killed);
        // Off the dead primary's host while the replicas are read (its sshd still answers).
        const vipOff = script.router.detach(killed, { bestEffort: true });
        await step('stop IO threads', () =>
          Promise.all(replicas.map((h) => script.conn(h).query('STOP SLAVE IO_THREAD'))),
        );
        const positions = await step('read positions', () =>
          Promise.all(
            replicas.map(async (h): Promise<ReplicaPosition> => {
              const c = script.conn(h);
              const current = String(await scalar(c, 'SELECT @@GLOBAL.gtid_current_pos'));
              const [status] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
              return { name: h, current, received: String(status[0]?.Gtid_IO_Pos ?? '') };
            }),
          ),
        );
        const chosen = mostAdvanced(positions);
        const c = script.conn(chosen.name);
        if (chosen.received) {
          const waited = await step('wait relay log', async () =>
            Number(await scalar(c, 'SELECT MASTER_GTID_WAIT(?, ?)', [chosen.received, RELAY_WAIT_SECONDS])),
          );
          sample.relayWaitTimedOut = waited !== 0;
        }
        const at = await step('promote', async () => {
          await c.query('STOP SLAVE');
          // Where the others (and the killed one, back) continue from.
          const pos = String(await scalar(c, 'SELECT @@GLOBAL.gtid_current_pos'));
          await c.query('RESET SLAVE ALL');
          await c.query('SET GLOBAL read_only=0');
          return pos;
        });
        await step('VIP on new primary', async () => {
          await vipOff;
          await script.router.attach(chosen.name);
        });
        sample.scriptMs = Date.now() - killedAt;
        sample.promoted = chosen.name;
        current = chosen.name;
        await step('repoint', () =>
          Promise.all(
            replicas.filter((h) => h !== chosen.name).map((h) => script.repoint(h, chosen.name, false)),
          ),
        );
        const first = await firstAckAfter(writer, killedAt, 10_000);
        if (first === null) throw new Error('no acknowledged write within 10 s of the promotion');
        sample.killToFirstAckMs = first - killedAt;
        await labStart(killed, { dir: labDir });
        await rejoinAt(info, killed, chosen.name, at);
        sample.ok = true;
        o.log(
          `floor run ${sample.run}: killed ${killed} → ${chosen.name}: kill → first ack ${sample.killToFirstAckMs} ms (script ${sample.scriptMs} ms, detection ${sample.detectionMs} ms${sample.relayWaitTimedOut ? ', relay-log wait ran out' : ''}); ${formatSteps(sample.steps)}`,
        );
      } catch (e) {
        sample.error = (e as Error).message;
        o.log(`floor run ${sample.run}: killed ${killed} FAILED: ${sample.error}`);
      } finally {
        watch.stop();
      }
      perRun.push(sample);
      if (!sample.ok) break;
      await sleep(o.pauseMs);
    }
  } finally {
    await script.close();
  }
  return {
    runs: perRun.length,
    failedRuns: perRun.filter((r) => !r.ok).length,
    killToFirstAckMs: summarizeOk(perRun, (r) => r.killToFirstAckMs ?? 0),
    detectionMs: summarizeOk(perRun, (r) => r.detectionMs ?? 0),
    lostWrites: null,
    perRun,
  };
}

const formatSteps = (steps: Record<string, number>) =>
  Object.entries(steps)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
