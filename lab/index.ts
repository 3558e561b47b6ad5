// The lab: a real MariaDB GTID replication topology on one machine. netns mode puts every host
// in its own network namespace on a lab bridge (sshd + mariadbd, VIP moved over SSH); loopback
// mode (no root) runs the servers on 127.0.0.1 ports behind HAProxy. Everything `lab up` makes
// is recorded in <labdir>/state.json as it is made, so `lab down` removes exactly that.
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from './build';
import { connectRoot, facts, startServer, waitServer, withRoot } from './mariadb';
import * as net from './net';
import { conflicts, planOf, resolveOptions } from './options';
import { enabledServers } from './runtimeApi';
import { isOurs, killHard, mapLimit, run } from './sh';
import { labDir, readState, requireState, withLock, writeState } from './state';
import { runningPid } from './service';
import type { HostStatus, LabCluster, LabHost, LabInfo, LabOptions, LabState, LabStatus } from './types';

export type { LabInfo, LabOptions, LabStatus, HostStatus, LabHost, LabMode, LabCluster } from './types';
export { labAddHost } from './addHost';

export { ACCOUNT_NAMES, DEFAULTS, SQL_PORT } from './defaults';
export { defaultLabDir, labDir, requireState } from './state';

const shape = (st: LabState) =>
  st.options.clusters
    ? `${st.options.clusters} clusters of ${st.options.hosts} hosts`
    : `${st.options.hosts} hosts`;

function processesAlive(st: LabState): boolean {
  return (
    st.processes.length > 0 &&
    st.processes.every((p) =>
      p.role === 'mariadbd' && p.host ? serverPid(st, p.host) !== null : isOurs(p.pid, st.dir),
    )
  );
}

/** Builds a lab; refuses when one is up, repairs (removes, then rebuilds) a half-built one. */
export async function labUp(opts: LabOptions = {}): Promise<LabInfo> {
  const o = resolveOptions(opts);
  const createdDir = !existsSync(o.dir);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  try {
    return await withLock(o.dir, 'lab up', async () => {
      const existing = readState(o.dir);
      let dirIsOurs = createdDir;
      if (existing) {
        if (existing.complete && processesAlive(existing))
          throw new Error(
            `a lab is already up in ${o.dir} (${existing.options.mode}, ${shape(existing)}): ` +
              '`successover lab status` shows it, `successover lab down` removes it',
          );
        o.log(
          `${o.dir} holds a half-built or broken lab: removing what its state.json records, then building anew`,
        );
        await teardown(existing, o.log);
        dirIsOurs = existing.createdDir;
      }
      const plan = planOf(o);
      const found = await conflicts(o, plan);
      if (found.length)
        throw new Error(
          `refusing to build a lab in ${o.dir}; this lab did not make:\n  ${found.join('\n  ')}`,
        );
      const { log: _log, dir: _dir, temporalPorts: _tp, ...options } = o;
      const state: LabState = {
        version: 1,
        complete: false,
        startedAt: new Date().toISOString(),
        options,
        dir: o.dir,
        createdDir: dirIsOurs,
        createdRunSshd: false,
        bridge: null,
        netns: [],
        links: [],
        processes: [],
        paths: [],
        servers: {},
        info: null,
      };
      writeState(state);
      const started = Date.now();
      try {
        const info = await build(o, state, plan);
        state.complete = true;
        state.info = info;
        writeState(state);
        if (o.temporal) o.log(`lab up with Temporal in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return info;
      } catch (e) {
        o.log(`lab up failed (${(e as Error).message}); removing what it made`);
        await teardown(state, o.log).catch((t: Error) =>
          o.log(`cleanup after the failure failed too: ${t.message}`),
        );
        throw e;
      }
    });
  } finally {
    removeDirIfEmpty(o.dir, createdDir && !existsSync(join(o.dir, 'state.json')));
  }
}

function removeDirIfEmpty(dir: string, ours: boolean): void {
  if (!ours) return;
  try {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not empty after all: leave it
  }
}

/** Removes what the state records, newest first; every step tolerates "already gone". */
async function teardown(st: LabState, log: (l: string) => void): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  // SIGKILL: nothing needs a clean stop, and all at once (a fleet has a hundred processes).
  await Promise.all(
    st.processes.map((p) => attempt(`kill ${p.role} ${p.pid}`, () => killHard(p.pid, st.dir))),
  );
  // A server restarted by its host's mariadbd-start.sh (a physical restore) has a pid of its own.
  for (const [host, s] of Object.entries(st.servers)) {
    const pid = runningPid(s.config, undefined);
    if (pid !== null) await attempt(`kill mariadbd ${pid} of ${host}`, () => killHard(pid, st.dir));
  }
  const existing = st.netns.length ? new Set(await net.listNetns()) : new Set<string>();
  await mapLimit(
    st.netns.filter((ns) => existing.has(ns)),
    8,
    async (ns) => {
      // Whatever still runs in our namespace is ours too (e.g. SSH sessions a runbook left open).
      await attempt(`processes in ${ns}`, async () => {
        const pids = (await run(['ip', 'netns', 'pids', ns])).split(/\s+/).filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      });
      await attempt(`ip netns del ${ns}`, () => run(['ip', 'netns', 'del', ns]));
    },
  );
  await mapLimit(st.links, 8, (l) => attempt(`ip link del ${l}`, () => net.delLink(l)));
  if (st.bridge) await attempt(`ip link del ${st.bridge}`, () => net.delLink(st.bridge as string));
  for (const p of [...st.paths].reverse())
    await attempt(`rm ${p}`, async () => rmSync(join(st.dir, p), { recursive: true, force: true }));
  if (errors.length) throw new Error(`lab down left something behind:\n  ${errors.join('\n  ')}`);
  rmSync(join(st.dir, 'state.json'), { force: true });
  log(`removed the lab in ${st.dir}`);
}

/** Idempotent: no state file means nothing to remove. */
export async function labDown(
  opts: { dir?: string; log?: (l: string) => void } = {},
): Promise<{ removed: boolean }> {
  const dir = labDir(opts.dir);
  const log = opts.log ?? (() => undefined);
  if (!existsSync(dir) || !readState(dir)) {
    log(`no lab in ${dir}: nothing to remove`);
    return { removed: false };
  }
  let createdDir = false;
  await withLock(dir, 'lab down', async () => {
    const st = readState(dir);
    if (!st) return;
    createdDir = st.createdDir;
    await teardown(st, log);
  });
  removeDirIfEmpty(dir, createdDir);
  return { removed: true };
}

function requireHost(st: LabState, host: string): void {
  if (!st.servers[host])
    throw new Error(`unknown lab host "${host}": expected one of ${Object.keys(st.servers).join(', ')}`);
}

const serverProcess = (st: LabState, host: string) =>
  st.processes.find((p) => p.role === 'mariadbd' && p.host === host);

/** The host's running mariadbd, whoever started it (lab up, lab start, its start script); else null. */
export function serverPid(st: LabState, host: string): number | null {
  const s = st.servers[host];
  return s ? runningPid(s.config, serverProcess(st, host)?.pid) : null;
}

/** kill -9 the host's mariadbd (a crash, not a shutdown). */
export async function labKill(host: string, opts: { dir?: string } = {}): Promise<{ pid: number }> {
  const dir = labDir(opts.dir);
  return withLock(dir, `lab kill ${host}`, async () => {
    const st = requireState(dir);
    requireHost(st, host);
    const pid = serverPid(st, host);
    if (pid === null) throw new Error(`mariadbd on ${host} is not running: nothing to kill`);
    await killHard(pid, st.dir);
    return { pid };
  });
}

/** Restarts the host's mariadbd with its configuration, hence read-only. */
export async function labStart(host: string, opts: { dir?: string } = {}): Promise<{ pid: number }> {
  const dir = labDir(opts.dir);
  return withLock(dir, `lab start ${host}`, async () => {
    const st = requireState(dir);
    requireHost(st, host);
    const running = serverPid(st, host);
    if (running !== null) throw new Error(`mariadbd on ${host} is already running (pid ${running})`);
    const p = serverProcess(st, host);
    const { config, netns } = st.servers[host];
    const pid = startServer(config, netns);
    st.processes = st.processes.filter((x) => x !== p);
    st.processes.push({ role: 'mariadbd', host, pid });
    // Both records of the host: the lab's hosts and its cluster's.
    for (const h of st.info ? [...st.info.hosts, ...clustersOf(st.info).flatMap((c) => c.hosts)] : [])
      if (h.name === host) h.pid = pid;
    writeState(st);
    await waitServer(config.socket, pid, st.dir);
    return { pid };
  });
}

function vethOf(st: LabState, host: string): string {
  requireHost(st, host);
  const ns = st.servers[host].netns;
  if (st.options.mode !== 'netns' || !ns)
    throw new Error('partition/heal need the netns mode (a loopback lab shares one network stack)');
  // Its veth's bridge side is named as its namespace.
  return ns;
}

/** Cuts the host off the bridge (its veth's bridge side down); processes keep running. */
export async function labPartition(host: string, opts: { dir?: string } = {}): Promise<void> {
  await net.setLink(vethOf(requireState(opts.dir), host), false);
}

export async function labHeal(host: string, opts: { dir?: string } = {}): Promise<void> {
  await net.setLink(vethOf(requireState(opts.dir), host), true);
}

/**
 * STONITH for the lab: fences a host through the lab's out-of-band path (its unix socket and its
 * namespace, like a server's management network), so it works on a partitioned host too. The
 * lab inventory's policy.fenceCommand may call it (`successover lab fence`, host from
 * SUCCESSOVER_HOST). read_only on, the VIP removed; mariadbd keeps running for investigation.
 */
export async function labFence(host: string, opts: { dir?: string } = {}): Promise<string[]> {
  const st = requireState(opts.dir);
  requireHost(st, host);
  const h = st.info?.hosts.find((x) => x.name === host);
  if (!h || !st.info) throw new Error(`no lab host ${host}`);
  const vip = clusterOf(st.info, h).vip;
  const done: string[] = [];
  if (serverPid(st, host) !== null) {
    await withRoot(h.socket, (c) => c.query('SET GLOBAL read_only = 1'));
    done.push(`read_only=ON on ${host}`);
  } else done.push(`mariadbd on ${host} is not running`);
  if (h.netns && vip)
    done.push(
      (await net.nsDelAddress(h.netns, `${vip.address}/32`))
        ? `VIP ${vip.address} removed from ${host}`
        : `VIP not on ${host}`,
    );
  return done;
}

/** The lab's clusters: `lab` alone in a state file older than fleets. */
export function clustersOf(info: LabInfo): LabCluster[] {
  return (
    info.clusters ?? [
      {
        name: info.cluster,
        labels: {},
        hosts: info.hosts,
        writer: info.writer,
        vip: info.vip,
        haproxy: info.haproxy,
      },
    ]
  );
}

/** A host's cluster (hosts `lab add-host` made carry none: they are `lab`'s). */
function clusterOf(info: LabInfo, h: LabHost): LabCluster {
  const name = h.cluster ?? info.cluster;
  return clustersOf(info).find((c) => c.name === name) ?? clustersOf(info)[0];
}

/** Its name in its cluster, as the inventory and HAProxy name it: "fleet01/db1" -> "db1". */
export const localName = (h: LabHost) => (h.cluster ? h.name.slice(h.cluster.length + 1) : h.name);

async function hostStatus(st: LabState, h: LabHost, vip: LabCluster['vip']): Promise<HostStatus> {
  const pid = serverPid(st, h.name);
  const s: HostStatus = {
    ...h,
    pid,
    up: false,
    role: 'down',
    readOnly: null,
    holdsVip: null,
    partitioned: false,
    ioRunning: null,
    sqlRunning: null,
    gtidCurrentPos: null,
    lastError: null,
  };
  if (st.options.mode === 'netns' && h.netns) {
    // Its veth's bridge side is named as its namespace.
    s.partitioned = !(await net.linkIsUp(h.netns).catch(() => false));
    if (vip) s.holdsVip = await net.nsHasAddress(h.netns, vip.address).catch(() => null);
  }
  if (pid === null) return s;
  try {
    const c = await connectRoot(h.socket, 1000);
    try {
      const f = await facts(c);
      s.up = true;
      s.readOnly = f.readOnly;
      s.gtidCurrentPos = f.gtidCurrentPos;
      // Writable is the primary even while it replicates (a master-master pair's writer).
      s.role = !f.readOnly ? 'primary' : f.replica ? 'replica' : 'read-only';
      if (f.replica) {
        s.ioRunning = f.replica.ioRunning;
        s.sqlRunning = f.replica.sqlRunning;
        s.lastError = f.replica.lastError || null;
      }
    } finally {
      c.destroy();
    }
  } catch (e) {
    s.lastError = (e as Error).message;
  }
  return s;
}

export async function labStatus(opts: { dir?: string } = {}): Promise<LabStatus> {
  const st = requireState(opts.dir);
  if (!st.info)
    throw new Error(
      `the lab in ${st.dir} is half-built: run \`successover lab up\` to repair it or \`lab down\``,
    );
  const info = st.info;
  const hosts = await Promise.all(info.hosts.map((h) => hostStatus(st, h, clusterOf(info, h).vip)));
  const clusters = await Promise.all(
    clustersOf(info).map(async (c) => {
      const own = hosts.filter((h) => clusterOf(info, h).name === c.name);
      let vipHolders: string[];
      if (c.haproxy) {
        const sock = c.haproxy.runtimeApi.replace(/^unix:/, '');
        vipHolders = await enabledServers(sock, c.haproxy.backend).catch(() => []);
        for (const h of own) h.holdsVip = vipHolders.includes(localName(h));
      } else vipHolders = own.filter((h) => h.holdsVip).map(localName);
      return { ...c, hosts: own, vipHolders };
    }),
  );
  const vipHolders = hosts.filter((h) => h.holdsVip).map((h) => h.name);
  const helpers = st.processes.filter((p) => p.role !== 'mariadbd');
  return {
    ...info,
    hosts,
    vipHolders,
    clusters,
    up: st.complete && helpers.every((p) => isOurs(p.pid, st.dir)),
  };
}

/** For tests and tools: the lab's state as recorded (what exists, not what answers). */
export function labState(dir?: string): LabState | undefined {
  const d = labDir(dir);
  return existsSync(d) ? readState(d) : undefined;
}
