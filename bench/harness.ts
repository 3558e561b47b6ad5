// What every benchmark stands on: a lab of its own (unique namespaces, subnet and directory, so it
// never touches a user's `.lab`), an in-memory Temporal dev server, an in-process worker and a
// writer committing through the VIP every 2 ms; all torn down once, whether the bench ends, fails
// or is interrupted (SIGINT/SIGTERM).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createConnection } from 'mysql2/promise';
import pino, { type Logger } from 'pino';
import { labDown, labStatus, labUp, type LabInfo } from '../lab/index';
import { parseSubnet, subnetInUse } from '../lab/net';
import { freePort, startDevServer, stopDevServer } from '../temporal/devserver';
import { createWorker } from '../worker/index';
import { installRuntime } from '../worker/logging';
import { Writer } from './writer';

export interface BenchLabOptions {
  hosts: number;
  semiSync?: boolean;
  /** A master-master pair (2 hosts, db1 <-> db2). */
  masterMaster?: boolean;
  /** The real alerting chain too (lab/alerting.ts); its receiver is the caller's to start. */
  alerting?: boolean;
  webhookPort?: number;
  /**
   * Runs after the lab is up and before the worker loads its inventory: load data, add hosts.
   * Returns the lab as it is then (e.g. with added hosts).
   */
  prepare?: (info: LabInfo, labDir: string) => Promise<LabInfo>;
  /** Leave the lab up at the end (its directory is printed); the dev server dies with us anyway. */
  keepLab?: boolean;
  log: (line: string) => void;
}

export interface BenchLab {
  info: LabInfo;
  labDir: string;
  client: Client;
  /** The dev server, for processes of the bench's own (the webhook receiver). */
  temporal: { address: string; namespace: string };
  taskQueue: string;
  writer: Writer;
  /** True once a signal started the teardown: stop the runs. */
  interrupted(): boolean;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const randomName = (n: number) =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

/** The bench's own logs, at LOG_LEVEL (default warn), on stderr: stdout is the result (--json). */
export function benchLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

/** Runs fn on a fresh bench lab and tears everything down afterwards. */
export async function withBenchLab<R>(o: BenchLabOptions, fn: (lab: BenchLab) => Promise<R>): Promise<R> {
  const { log } = o;
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
    log(
      `bench lab ${prefix} (${subnet}, ${o.hosts} hosts${o.semiSync ? ', semi-sync' : ''}${o.masterMaster ? ', master-master' : ''}) in ${labDir}; Temporal dev server in memory`,
    );
    teardown.add('stop the Temporal dev server', () => stopDevServer(temporalDir));
    const [labInfo, server] = await Promise.all([
      labUp({
        hosts: o.hosts,
        mode: 'netns',
        prefix,
        subnet,
        dir: labDir,
        temporal: false,
        semiSync: o.semiSync ?? false,
        masterMaster: o.masterMaster ?? false,
        alerting: o.alerting ?? false,
        webhookPort: o.webhookPort,
      }),
      startServer(temporalDir),
    ]);

    const info = o.prepare ? await o.prepare(labInfo, labDir) : labInfo;
    try {
      // The worker's state changes are INFO lines that would drown the bench's own output; the
      // core's warnings go through pino to stderr too (by default it prints them on stdout).
      installRuntime(benchLogger());
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
      logger: benchLogger(),
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

    const writer = Writer.forLab(info, { intervalMs: 2, connectTimeoutMs: 100 });
    await writer.start();
    teardown.add('stop the writer', () => writer.stop());

    const temporal = { address: server.address, namespace: server.namespace };
    const r = await fn({ info, labDir, client, temporal, taskQueue, writer, interrupted: () => interrupted });
    // Interrupted: the signal's teardown owns the end (and exits 130); returning a result now
    // would let the caller exit halfway through it.
    if (interrupted) await new Promise<never>(() => undefined);
    if (o.keepLab) log(`lab kept in ${labDir}: \`successover lab down --dir ${labDir}\` removes it`);
    return r;
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

/** A 10.99.N.0/24 no interface of this machine uses, for a lab of its own. */
export async function freeSubnet(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const cidr = `10.99.${1 + Math.floor(Math.random() * 250)}.0/24`;
    if ((await subnetInUse(parseSubnet(cidr))).length === 0) return cidr;
  }
  throw new Error('no free 10.99.N.0/24 subnet found for the bench lab');
}

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

export async function currentPrimary(dir: string): Promise<string | null> {
  const s = await labStatus({ dir });
  const writable = s.hosts.filter((h) => h.role === 'primary');
  return writable.length === 1 ? writable[0].name : null;
}

/**
 * Acknowledged writes missing on a lab host, read as root over its socket (works during a cut).
 * `upTo`: only the first N acknowledged (taken before the read, while the writer still runs).
 */
export async function lostThrough(
  info: LabInfo,
  host: string,
  writer: Writer,
  upTo?: number,
): Promise<number[]> {
  const h = info.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  const c = await createConnection({ socketPath: h.socket, user: 'root', connectTimeout: 2000 });
  try {
    return await writer.lost(c, upTo);
  } finally {
    c.destroy();
  }
}

/**
 * The first acknowledged write after the outage began: after the writer's first failure following
 * `t` (an ack timestamped just after a kill may belong to a write the old primary took).
 */
export async function firstAckAfter(writer: Writer, t: number, waitMs: number): Promise<number | null> {
  for (let waited = 0; waited <= waitMs; waited += 50) {
    const failed = writer.failedAt.find((x) => x >= t);
    const a = failed === undefined ? undefined : writer.acked.find((x) => x.at > failed);
    if (a) return a.at;
    await sleep(50);
  }
  return null;
}
