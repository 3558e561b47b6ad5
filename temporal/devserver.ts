// The Temporal dev server (`temporal server start-dev`) that the CLI, the lab and the tests run.
// One server per data dir: its pid file there says which process we started, so stop kills exactly
// that process and never another temporal someone else runs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/api';
import { findTemporalBinary, REPO_ROOT } from './binary';
import { devServerDynamicConfigArgs } from './dynamicConfig';

/** Search attributes the runbooks set (workflows/api.ts); all Keyword. */
export const SEARCH_ATTRIBUTES = Object.values(SEARCH_ATTRIBUTE_KEYS).map((k) => k.name);
// temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const KEYWORD = 2;

export interface DevServerOptions {
  /** Holds the pid file (temporal.pid) and the log (temporal.log). */
  dataDir: string;
  /** SQLite file that keeps runs across restarts; omitted: in memory. */
  dbFilename?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** No Web UI (tests that do not look at it start faster and use one port less). */
  headless?: boolean;
  /** Temporal CLI; default .tools/bin/temporal, else temporal on PATH. */
  binary?: string;
  namespace?: string;
  startTimeoutMs?: number;
  /**
   * Kill the server when this process exits or dies (tests), instead of leaving it running
   * detached (CLI, lab).
   */
  tiedToProcess?: boolean;
}

/** What the pid file records about a running server. */
export interface DevServer {
  pid: number;
  address: string;
  namespace: string;
  uiUrl?: string;
  dbFilename?: string;
  logFile: string;
  binary: string;
  startedAt: string;
}

export interface StartedDevServer extends DevServer {
  alreadyRunning: boolean;
  /** Spawn to answering, with search attributes registered. */
  startMs: number;
}

export type DevServerStatus =
  | { state: 'stopped' }
  | { state: 'running'; server: DevServer }
  | { state: 'not answering'; server: DevServer };

const pidFile = (dataDir: string) => join(dataDir, 'temporal.pid');

/** A port free on ip right now (another process may still take it before we do: callers retry). */
export function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, ip, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** True when nothing listens on ip:port right now. */
export function portFree(port: number, ip = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, ip, () => srv.close(() => res(true)));
  });
}

/** `successover temporal start`'s data dir (the lab's server lives in <lab dir>/temporal). */
export const CLI_DEV_SERVER_DIR = join(REPO_ROOT, '.data');

/** The server a data dir's pid file records, when its process still runs. */
export function runningServer(dataDir: string): DevServer | undefined {
  const s = readServer(resolve(dataDir));
  return s && isOurServer(s) ? s : undefined;
}

function readServer(dataDir: string): DevServer | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(dataDir), 'utf8')) as DevServer;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and is the dev server recorded for that address (pids get reused). */
function isOurServer(s: DevServer): boolean {
  try {
    process.kill(s.pid, 0);
  } catch {
    return false;
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux';
  }
  const port = s.address.slice(s.address.lastIndexOf(':') + 1);
  // A zombie has an empty cmdline: it is gone as far as we are concerned.
  return cmdline.includes('\0start-dev\0') && cmdline.includes(`\0--port\0${port}\0`);
}

function logTail(file: string): string {
  try {
    return startFailure(readFileSync(file, 'utf8'));
  } catch {
    return '(no log)';
  }
}

/**
 * What a server's log says about why it died while starting: the last lines, led by the lines
 * that give the reason. A Go panic prints its message above a stack trace of dozens of lines, so
 * the tail alone would show only the trace.
 */
export function startFailure(log: string, lines = 15): string {
  const all = log.trimEnd().split('\n');
  const tail = all.slice(-lines);
  const reasons = all.filter(
    (l, i) => i < all.length - lines && /^(panic: |Error: )|address already in use/.test(l),
  );
  return [...reasons.slice(-3), ...(reasons.length ? ['...'] : []), ...tail].join('\n');
}

async function connect(address: string, timeoutMs: number): Promise<Connection> {
  return Connection.connect({ address, connectTimeout: timeoutMs });
}

/**
 * Waits until the frontend answers and the namespace exists. `gone` aborts early when the
 * process died (port taken, bad flag) so the caller sees the reason at once.
 */
export async function waitUntilAnswering(
  address: string,
  namespace: string,
  timeoutMs: number,
  gone: () => string | undefined = () => undefined,
): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const why = gone();
    if (why) throw new Error(why);
    try {
      const conn = await connect(address, Math.max(200, Math.min(2000, deadline - Date.now())));
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return conn;
      } catch (e) {
        await conn.close();
        throw e;
      }
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(last)}`);
    await sleep(100);
  }
}

/** Adds the runbooks' search attributes that are missing; refuses one that exists with another type. */
export async function registerSearchAttributes(conn: Connection, namespace: string): Promise<void> {
  const have = await conn.operatorService.listSearchAttributes({ namespace });
  const custom = have.customAttributes ?? {};
  const missing: Record<string, number> = {};
  for (const name of SEARCH_ATTRIBUTES) {
    if (custom[name] === undefined) missing[name] = KEYWORD;
    else if (custom[name] !== KEYWORD)
      throw new Error(
        `search attribute ${name} exists in ${namespace} with type ${custom[name]}, not Keyword`,
      );
  }
  if (Object.keys(missing).length > 0)
    await conn.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

async function ready(server: DevServer, timeoutMs: number, gone?: () => string | undefined): Promise<void> {
  const conn = await waitUntilAnswering(server.address, server.namespace, timeoutMs, gone);
  try {
    await registerSearchAttributes(conn, server.namespace);
  } finally {
    await conn.close();
  }
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * Starts the dev server in the background, waits until it answers and registers the search
 * attributes. Idempotent: when the data dir's server is already running, returns it.
 */
export async function startDevServer(opts: DevServerOptions): Promise<StartedDevServer> {
  const t0 = Date.now();
  const dataDir = resolve(opts.dataDir);
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  const namespace = opts.namespace ?? 'default';
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  mkdirSync(dataDir, { recursive: true });

  const existing = readServer(dataDir);
  if (existing && isOurServer(existing)) {
    await ready(existing, timeoutMs);
    return { ...existing, alreadyRunning: true, startMs: Date.now() - t0 };
  }
  if (existing) rmSync(pidFile(dataDir), { force: true });
  // Another server on the port (the PostgreSQL-backed one, say) would answer our readiness check
  // while ours exits on "address already in use".
  const ports: [number, string][] = [[port, '--port']];
  if (!opts.headless) ports.push([uiPort, '--ui-port']);
  for (const [p, flag] of ports)
    if (!(await portFree(p, ip)))
      throw new Error(
        `${ip}:${p}: address already in use (\`successover temporal status\` shows the servers it started): free it or choose another with ${flag}`,
      );

  const binary = opts.binary ?? findTemporalBinary();
  const dbFilename = opts.dbFilename === undefined ? undefined : resolve(opts.dbFilename);
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), ...devServerDynamicConfigArgs()];
  if (dbFilename) args.push('--db-filename', dbFilename);
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));

  const logFile = join(dataDir, 'temporal.log');
  const log = openSync(logFile, 'a');
  // Tied to us: the kernel kills it when we die, even by SIGKILL, so a crashed test run
  // leaves nothing behind. Otherwise a session of its own that outlives the CLI.
  const tied = opts.tiedToProcess === true && existsSync(SETPRIV);
  const child = tied
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', log, log] })
    : spawn(binary, args, { detached: !opts.tiedToProcess, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.once('error', (e) => (exited = `cannot run ${binary}: ${e.message}`));
  child.once('exit', (code, signal) => {
    exited ??= `temporal server exited (${signal ?? `code ${code}`}) while starting:\n${logTail(logFile)}`;
  });
  child.unref();
  if (child.pid === undefined) {
    await sleep(10);
    throw new Error(exited ?? `cannot run ${binary}`);
  }
  const pid = child.pid;
  if (opts.tiedToProcess)
    process.once('exit', () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });

  const server: DevServer = {
    pid,
    address: `${ip}:${port}`,
    namespace,
    uiUrl: opts.headless ? undefined : `http://${ip}:${uiPort}`,
    dbFilename,
    logFile,
    binary,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(pidFile(dataDir), JSON.stringify(server, null, 2) + '\n');
  try {
    await ready(server, timeoutMs, () => exited);
  } catch (e) {
    await stopDevServer(dataDir);
    throw e;
  }
  return { ...server, alreadyRunning: false, startMs: Date.now() - t0 };
}

/** Whether the data dir's server runs and answers. */
export async function devServerStatus(dataDir: string, timeoutMs = 2000): Promise<DevServerStatus> {
  const server = readServer(resolve(dataDir));
  if (!server || !isOurServer(server)) return { state: 'stopped' };
  try {
    const conn = await waitUntilAnswering(server.address, server.namespace, timeoutMs);
    await conn.close();
    return { state: 'running', server };
  } catch {
    return { state: 'not answering', server };
  }
}

/** Stops the server this data dir's pid file names (SIGTERM, then SIGKILL after timeoutMs). */
export async function stopDevServer(
  dataDir: string,
  timeoutMs = 10_000,
): Promise<{ stopped: boolean; server?: DevServer }> {
  const dir = resolve(dataDir);
  const server = readServer(dir);
  if (!server || !isOurServer(server)) {
    rmSync(pidFile(dir), { force: true });
    return { stopped: false, server };
  }
  process.kill(server.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isOurServer(server)) {
    if (Date.now() > deadline) {
      process.kill(server.pid, 'SIGKILL');
      await sleep(100);
      break;
    }
    await sleep(50);
  }
  rmSync(pidFile(dir), { force: true });
  return { stopped: true, server };
}
